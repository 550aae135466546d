import { createHash } from 'node:crypto';
import { BadRequestException } from '@nestjs/common';
import {
  decodeOpaqueCursor,
  encodeOpaqueCursor,
  UUID_TEXT,
} from '../core/validation/opaque-cursor.js';

/** Where a page ended: the last occurrence's start (epoch ms) and item id. */
export interface OccurrencePosition {
  startMs: number;
  itemId: string;
}

export interface CursorQuery {
  userId: string;
  from: number;
  to: number;
  connectionId?: string;
}

/**
 * The cursor: base64url of `{"v":1,"s":<start ms>,"i":"<item id>","q":"<query fingerprint>"}`.
 * Opaque to clients. The fingerprint ties it to the query it came from, so a cursor reused with
 * another user or window is refused instead of silently skipping occurrences.
 */
export function encodeOccurrenceCursor(position: OccurrencePosition, query: CursorQuery): string {
  return encodeOpaqueCursor({ s: position.startMs, i: position.itemId, q: fingerprint(query) });
}

/** The position after which to continue; undefined without a cursor; 400 when it is not ours. */
export function decodeOccurrenceCursor(
  cursor: string | undefined,
  query: CursorQuery,
): OccurrencePosition | undefined {
  if (cursor === undefined) return undefined;
  const parsed = parse(cursor);
  if (!parsed) throw new BadRequestException('cursor is malformed');
  if (parsed.q !== fingerprint(query)) {
    throw new BadRequestException(
      'cursor belongs to another query (userId, from, to, connectionId)',
    );
  }
  return { startMs: parsed.s, itemId: parsed.i };
}

function parse(cursor: string): { s: number; i: string; q: string } | undefined {
  const { s, i, q } = decodeOpaqueCursor(cursor) ?? {};
  if (typeof s !== 'number' || !Number.isSafeInteger(s)) return undefined;
  if (typeof i !== 'string' || !UUID_TEXT.test(i) || typeof q !== 'string') return undefined;
  return { s, i, q };
}

function fingerprint(q: CursorQuery): string {
  return createHash('sha256')
    .update(JSON.stringify([q.userId, q.from, q.to, q.connectionId ?? null]))
    .digest('base64url')
    .slice(0, 22);
}
