import {
  type HttpStatusError,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  preclassify,
  isProviderError,
  ProviderError,
} from '@pdeck/integration-sdk';
import { GOOGLE_CALENDAR_ID } from './google-calendar.catalog.js';
import type { GoogleErrorBody } from './google-calendar.types.js';

/** Google sends no Retry-After as a rule (UNCONFIRMED either way): back off 30-60 s, jittered. */
export const RATE_LIMIT_BASE_MS = 30_000;
export const RATE_LIMIT_JITTER_MS = 30_000;

/** `reason`s that mean "over quota", whatever the status (a 403 is not always a permission). */
const RATE_LIMIT_REASONS: ReadonlySet<string> = new Set([
  'rateLimitExceeded',
  'userRateLimitExceeded',
  'quotaExceeded',
]);

const RETRY_AFTER_IN_MESSAGE = /retry after (\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:\d{2}))/i;

interface ErrorFacts {
  reasons: string[];
  domains: string[];
  status?: string;
  message?: string;
}

/**
 * Maps any failure of a Google Calendar call to the shared code set (one pure function maps
 * errors; `now` and `random` are parameters so the backoff is testable).
 *
 * 401: TEMPORARY with `accessTokenRejected`, not AUTH_REVOKED. Google says: on a 401 authError,
 * refresh the access token, and only if that fails send the user through OAuth again
 * (https://developers.google.com/workspace/calendar/api/guides/errors).
 * The engine marks the token expired, the retry refreshes it, and a refused refresh
 * (invalid_grant) moves the connection to needs_reauth; a 401 alone would have put a connection
 * that one refresh could save into needs_reauth, which only the user can undo.
 */
export function mapGoogleError(
  error: unknown,
  now: Date = new Date(),
  random: () => number = Math.random,
): ProviderError {
  // 429, 5xx, network: classified by the HTTP client.
  const pre = preclassify(error, GOOGLE_CALENDAR_ID);
  if (isProviderError(pre)) return pre;
  return byStatus(pre, now, random);
}

/** Google's rules for an HTTP answer the shared client left unclassified. */
function byStatus(error: HttpStatusError, now: Date, random: () => number): ProviderError {
  const { status } = error;
  const facts = factsOf(error.json);
  const detail = facts.reasons[0] ?? facts.status;
  const opts = { ...fail(error), status, detail };
  const text = `${error.message}${detail ? ` (${detail})` : ''}`;

  // 410 fullSyncRequired / updatedMinTooLongAgo: the sync token is dead; wipe and re-sync.
  // ('deleted' is the third 410 reason, for deleting a deleted event: we never delete.)
  if (status === 410) return new ProviderError('CURSOR_INVALID', text, opts);
  if (status === 429 || (status === 403 && isRateLimit(facts))) {
    const retryAt = retryAtOf(error.headers.get('retry-after'), facts.message, now, random);
    return new ProviderError('RATE_LIMITED', text, { ...opts, retryAt });
  }
  if (status === 401) {
    return new ProviderError('TEMPORARY', text, {
      ...opts,
      detail: 'authError',
      accessTokenRejected: true,
    });
  }
  // Insufficient permissions / scopes, API not enabled, calendar not readable by this user.
  if (status === 403) return new ProviderError('PERMISSION', text, opts);
  // A calendar that went away (deleted, unsubscribed). Google's error guide
  // (https://developers.google.com/workspace/calendar/api/guides/errors) advises backoff for 404
  // right after a create; we never create, so for us it is the resource that is gone.
  if (status === 404) return new ProviderError('NOT_FOUND', text, opts);
  if (status === 408 || status >= 500) return new ProviderError('TEMPORARY', text, opts);
  return new ProviderError('UNKNOWN', text, opts);
}

function fail(cause: unknown) {
  return { cause, provider: GOOGLE_CALENDAR_ID };
}

function isRateLimit(facts: ErrorFacts): boolean {
  // Over quota, Google answers 403 or 429 with domain usageLimits
  // (https://developers.google.com/workspace/calendar/api/guides/quota); RESOURCE_EXHAUSTED is the
  // google.rpc status of the same condition. Reading an unlisted quota signal as a rate limit errs
  // on the safe side: waiting costs a minute, PERMISSION would skip the calendar.
  return (
    facts.reasons.some((r) => RATE_LIMIT_REASONS.has(r)) ||
    facts.domains.includes('usageLimits') ||
    facts.status === 'RESOURCE_EXHAUSTED'
  );
}

/**
 * Retry-After header, else the "Retry after <time>" of the message ("User-rate limit exceeded.
 * Retry after ...", a form other Google integrations parse too), else backoff.
 */
function retryAtOf(
  header: string | null,
  message: string | undefined,
  now: Date,
  random: () => number,
): Date {
  const fromHeader = parseRetryAfter(header, now);
  if (fromHeader) return fromHeader;
  const m = message ? RETRY_AFTER_IN_MESSAGE.exec(message) : null;
  const at = m ? Date.parse(m[1]) : NaN;
  if (Number.isFinite(at)) {
    return new Date(Math.min(Math.max(at, now.getTime()), now.getTime() + MAX_RETRY_AFTER_MS));
  }
  const jitter = Math.floor(Math.min(Math.max(random(), 0), 1) * RATE_LIMIT_JITTER_MS);
  return new Date(now.getTime() + RATE_LIMIT_BASE_MS + jitter);
}

function factsOf(json: unknown): ErrorFacts {
  const body = (json && typeof json === 'object' ? json : {}) as GoogleErrorBody;
  const err = body.error && typeof body.error === 'object' ? body.error : undefined;
  const items = Array.isArray(err?.errors) ? err.errors : [];
  const strings = (values: unknown[]) => values.filter((v): v is string => typeof v === 'string');
  return {
    reasons: strings(items.map((i) => i?.reason)),
    domains: strings(items.map((i) => i?.domain)),
    status: typeof err?.status === 'string' ? err.status : undefined,
    message: typeof err?.message === 'string' ? err.message : undefined,
  };
}
