import { createHash } from 'node:crypto';

/**
 * Opaque page and sync tokens. Like Google's they are base64 (with `+`, `/`, `=`), so a client
 * that forgets to URL-encode them breaks here as it would against the real API.
 */
export interface SyncTokenData {
  /** Short hash of the calendar (or account, for calendarList) the token belongs to. */
  r: string;
  /** Epoch at issue; an admin invalidation bumps the calendar's epoch. */
  e: number;
  /** Store sequence the token was issued at. */
  s: number;
  /** singleEvents at issue (events only). */
  x?: 0 | 1;
}

export interface PageTokenData {
  r: string;
  e: number;
  /** Fingerprint of the query without pageToken/maxResults: a page token only continues its query. */
  f: string;
  /** `f`ull scan, `s`ync (change log), `o`rdered (materialized and sorted). */
  m: 'f' | 's' | 'o';
  /** Position to continue at, and sub-position inside an expanded recurring series. */
  p: number;
  u: number;
  /** Snapshot: the seq the final nextSyncToken will carry. */
  n: number;
  /** Seq of the incoming sync token (sync mode). */
  t?: number;
}

export function encodeToken(data: SyncTokenData | PageTokenData): string {
  return Buffer.from(JSON.stringify(data)).toString('base64');
}

export function decodeToken<T extends SyncTokenData | PageTokenData>(token: string): T | undefined {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as unknown;
    return value && typeof value === 'object' && 'r' in value ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}

export function shortHash(value: string): string {
  return createHash('sha1').update(value).digest('hex').slice(0, 10);
}

/** Request parameters that don't change the result set (Google's system params and paging). */
const NEUTRAL = new Set([
  'pageToken',
  'maxResults',
  'fields',
  'alt',
  'prettyPrint',
  'quotaUser',
  'key',
  'access_token',
]);

export function queryFingerprint(query: URLSearchParams): string {
  const kept = [...query]
    .filter(([k]) => !NEUTRAL.has(k))
    .sort(([a, av], [b, bv]) => (a === b ? av.localeCompare(bv) : a.localeCompare(b)));
  return shortHash(JSON.stringify(kept));
}
