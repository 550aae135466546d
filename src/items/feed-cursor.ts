import { BadRequestException } from '@nestjs/common';

/** Largest bigint Postgres stores; a change_seq can never exceed it. */
const MAX_SEQ = 9223372036854775807n;
const SEQ = /^(0|[1-9]\d{0,18})$/;
const BASE64URL = /^[A-Za-z0-9_-]{1,200}$/;

/**
 * The changes-feed cursor: base64url of `{"v":1,"s":"<change_seq>"}`. Opaque to clients so the
 * position can grow fields (v) without breaking them; `s` is the last change_seq delivered.
 */
export function encodeFeedCursor(seq: string): string {
  return Buffer.from(JSON.stringify({ v: 1, s: seq }), 'utf8').toString('base64url');
}

/** The change_seq after which to read; "0" without a cursor. Malformed cursors are a 400. */
export function decodeFeedCursor(cursor: string | undefined): string {
  if (cursor === undefined) return '0';
  const seq = BASE64URL.test(cursor) ? parse(cursor) : undefined;
  if (seq === undefined) throw new BadRequestException('cursor is malformed');
  return seq;
}

function parse(cursor: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { v, s } = value as { v?: unknown; s?: unknown };
  if (v !== 1 || typeof s !== 'string' || !SEQ.test(s) || BigInt(s) > MAX_SEQ) return undefined;
  return s;
}
