/**
 * Opaque cursors shaped like Slack's: base64 of `<kind>:<position>` (`team:C0GENERAL1`,
 * `user:U0BOB00002`, `next_ts:1712345678000100`), read back only by the method that made them.
 */
export function encodeCursor(kind: string, position: string): string {
  return Buffer.from(`${kind}:${position}`).toString('base64');
}

/** The position of a cursor of `kind`; undefined when it is not one (Slack: `invalid_cursor`). */
export function decodeCursor(cursor: string, kind: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(cursor)) return undefined;
  const text = Buffer.from(cursor, 'base64').toString('utf8');
  return text.startsWith(`${kind}:`) ? text.slice(kind.length + 1) : undefined;
}

export type Page<T> = { items: T[]; nextCursor: string } | { error: 'invalid_cursor' };

/** One page of an id-ordered list; the cursor names the first id of the next page. */
export function pageById<T extends { id: string }>(
  all: T[],
  kind: string,
  cursor: string | undefined,
  limit: number,
): Page<T> {
  let start = 0;
  if (cursor) {
    const id = decodeCursor(cursor, kind);
    start = all.findIndex((x) => x.id === id);
    if (start < 0) return { error: 'invalid_cursor' };
  }
  const items = all.slice(start, start + limit);
  const next = all[start + limit];
  return { items, nextCursor: next ? encodeCursor(kind, next.id) : '' };
}

/** `limit`: the default when absent or not a positive number, at most `max`. */
export function pageLimit(raw: string | undefined, byDefault: number, max: number): number {
  const n = Math.floor(Number(raw));
  return Number.isFinite(n) && n > 0 ? Math.min(n, max) : byDefault;
}
