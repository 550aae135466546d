import { createHash } from 'node:crypto';

/**
 * The default scope: what a person expects in a task list. Their assigned issues that are not
 * done, plus those changed in the last 90 days (recently finished work stays visible).
 * `currentUser()` is evaluated by Jira as the token's user.
 */
export const DEFAULT_SCOPE_JQL =
  'assignee = currentUser() AND (statusCategory != Done OR updated >= "-90d")';

/** Longest override accepted: well inside a POST body, long enough for any real filter. */
export const MAX_JQL_LENGTH = 2000;

/** Covers JQL's minute precision plus clock skew between us and Jira. */
export const WATERMARK_OVERLAP_MS = 2 * 60_000;

/** The connection's scope: its validated `jql` override, else the default. */
export function scopeJql(settings: Record<string, unknown>): string {
  const jql = settings?.jql;
  return typeof jql === 'string' && jql.trim() && !jqlProblem(jql) ? jql.trim() : DEFAULT_SCOPE_JQL;
}

/** Identifies a scope in cursors: a changed override invalidates the incremental watermark. */
export function scopeHash(jql: string): string {
  return createHash('sha256').update(jql).digest('base64url').slice(0, 16);
}

/**
 * A local check of an override, before it is stored (Jira checks the rest at the first search;
 * its 400 is reported in the run). Refuses what would break the queries we build around it:
 * ORDER BY (we order), unbalanced quotes or parentheses (the override is wrapped in `( )` and
 * ANDed with our clauses), control characters, and the empty string.
 */
export function jqlProblem(jql: string): string | null {
  const text = jql.trim();
  if (!text) return 'jql must not be empty (send null to return to the default scope)';
  if (text.length > MAX_JQL_LENGTH) return `jql must be at most ${MAX_JQL_LENGTH} characters`;
  if (hasControlCharacter(text)) return 'jql must not contain control characters';
  let depth = 0;
  let quote: string | null = null;
  let outside = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '(') depth++;
    else if (c === ')' && --depth < 0) return 'jql has an unbalanced ")"';
    outside += quote ? '' : c;
  }
  if (quote) return 'jql has an unterminated quoted string';
  if (depth !== 0) return 'jql has an unbalanced "("';
  if (/\border\s+by\b/i.test(outside)) return 'jql must not contain ORDER BY (the service orders)';
  return null;
}

/**
 * "Changed since the watermark" as a relative date. JQL reads absolute date literals in a time
 * zone that Atlassian documents as the user's profile zone (UNCONFIRMED; some sources say the
 * site's): a relative offset such as "-95m" means the same instant in every zone, so no zone has
 * to be guessed. The offset is in whole minutes (JQL's precision), rounded up, plus the overlap;
 * the overlap's re-reads are deduplicated by id and version.
 */
export function updatedSince(watermark: Date, now: Date): string {
  const minutes = Math.max(
    1,
    Math.ceil((now.getTime() - watermark.getTime() + WATERMARK_OVERLAP_MS) / 60_000),
  );
  return `updated >= "-${minutes}m"`;
}

/** `key in ("A-1", "B-2")`, for reading the content of issues an ids-only listing found changed. */
export function keysIn(keys: readonly string[]): string {
  return `key in (${keys.map((k) => `"${k.replace(/["\\]/g, '')}"`).join(', ')})`;
}

/** C0 controls and DEL, except tab and line breaks (a pasted multi-line query is fine). */
function hasControlCharacter(text: string): boolean {
  for (const c of text) {
    const code = c.charCodeAt(0);
    if ((code < 0x20 && c !== '\t' && c !== '\n' && c !== '\r') || code === 0x7f) return true;
  }
  return false;
}
