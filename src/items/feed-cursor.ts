import { BadRequestException } from '@nestjs/common';
import { decodeOpaqueCursor, encodeOpaqueCursor } from '../core/validation/opaque-cursor.js';

/** Largest bigint Postgres stores; a change_seq can never exceed it. */
const MAX_SEQ = 9223372036854775807n;
const SEQ = /^(0|[1-9]\d{0,18})$/;

/**
 * The changes-feed cursor: base64url of `{"v":1,"s":"<change_seq>"}`. Opaque to clients so the
 * position can grow fields (v) without breaking them; `s` is the last change_seq delivered.
 */
export function encodeFeedCursor(seq: string): string {
  return encodeOpaqueCursor({ s: seq });
}

/** The change_seq after which to read; "0" without a cursor. Malformed cursors are a 400. */
export function decodeFeedCursor(cursor: string | undefined): string {
  if (cursor === undefined) return '0';
  const s = decodeOpaqueCursor(cursor)?.s;
  const seq = typeof s === 'string' && SEQ.test(s) && BigInt(s) <= MAX_SEQ ? s : undefined;
  if (seq === undefined) throw new BadRequestException('cursor is malformed');
  return seq;
}
