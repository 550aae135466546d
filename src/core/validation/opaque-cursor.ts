/** Longest cursor any list accepts: a cursor is a few dozen characters; more is not ours. */
const BASE64URL = /^[A-Za-z0-9_-]{1,500}$/;

/** UUIDs as Postgres prints them (cursors carry ids the service wrote). */
export const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The paging cursors of the API: base64url of a small JSON object with a version `v` and the
 * position, opaque to clients so a position can grow fields without breaking them.
 */
export function encodeOpaqueCursor(position: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify({ v: 1, ...position }), 'utf8').toString('base64url');
}

/**
 * The position of a cursor made by encodeOpaqueCursor (version 1), or undefined when the text is
 * not one: the caller checks the fields it needs and answers 400.
 */
export function decodeOpaqueCursor(cursor: string): Record<string, unknown> | undefined {
  if (!BASE64URL.test(cursor)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { v, ...position } = value as Record<string, unknown>;
  return v === 1 ? position : undefined;
}
