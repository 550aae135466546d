import { createHash } from 'node:crypto';
import { BadRequestException } from '@nestjs/common';

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

const BASE64URL = /^[A-Za-z0-9_-]{1,500}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The cursor: base64url of `{"v":1,"s":<start ms>,"i":"<item id>","q":"<query fingerprint>"}`.
 * Opaque to clients. The fingerprint ties it to the query it came from, so a cursor reused with
 * another user or window is refused instead of silently skipping occurrences.
 */
export function encodeOccurrenceCursor(position: OccurrencePosition, query: CursorQuery): string {
  const body = { v: 1, s: position.startMs, i: position.itemId, q: fingerprint(query) };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

/** The position after which to continue; undefined without a cursor; 400 when it is not ours. */
export function decodeOccurrenceCursor(
  cursor: string | undefined,
  query: CursorQuery,
): OccurrencePosition | undefined {
  if (cursor === undefined) return undefined;
  const parsed = BASE64URL.test(cursor) ? parse(cursor) : undefined;
  if (!parsed) throw new BadRequestException('cursor is malformed');
  if (parsed.q !== fingerprint(query)) {
    throw new BadRequestException(
      'cursor belongs to another query (userId, from, to, connectionId)',
    );
  }
  return { startMs: parsed.s, itemId: parsed.i };
}

function parse(cursor: string): { s: number; i: string; q: string } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { v, s, i, q } = value as Record<string, unknown>;
  if (v !== 1 || typeof s !== 'number' || !Number.isSafeInteger(s)) return undefined;
  if (typeof i !== 'string' || !UUID.test(i) || typeof q !== 'string') return undefined;
  return { s, i, q };
}

function fingerprint(q: CursorQuery): string {
  return createHash('sha256')
    .update(JSON.stringify([q.userId, q.from, q.to, q.connectionId ?? null]))
    .digest('base64url')
    .slice(0, 22);
}
