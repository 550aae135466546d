import {
  createErrorMapper,
  jsonField,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
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

/**
 * Maps any failure of a Google Calendar call to the shared code set (`now` and `random` are
 * parameters so the backoff is testable). Beyond the SDK's default table (401 TEMPORARY with
 * `accessTokenRejected`, as Google says: refresh on a 401 authError and only send the user through
 * OAuth again if that fails, https://developers.google.com/workspace/calendar/api/guides/errors;
 * 403 PERMISSION: scopes, API not enabled, calendar not readable; 404 NOT_FOUND: a calendar that
 * went away, since the backoff Google advises for a 404 right after a create does not apply to us,
 * we never create; 408/5xx TEMPORARY; else UNKNOWN), Google's own rules:
 * - 410 fullSyncRequired / updatedMinTooLongAgo: the sync token is dead; wipe and re-sync
 *   ('deleted' is the third 410 reason, for deleting a deleted event: we never delete).
 * - 403/429 over quota: RATE_LIMITED, not a permission failure.
 * - 401 always carries the detail `authError`.
 */
export function mapGoogleError(
  error: unknown,
  now: Date = new Date(),
  random: () => number = Math.random,
): ProviderError {
  return createErrorMapper({
    provider: GOOGLE_CALENDAR_ID,
    detail: (json) => {
      const facts = factsOf(json);
      return facts.reasons[0] ?? facts.status;
    },
    goneMeansCursorInvalid: true,
    classify: (cause, { message, ...opts }) => {
      const { status } = cause;
      const facts = factsOf(cause.json);
      if (status === 429 || (status === 403 && isRateLimit(facts))) {
        const retryAt = retryAtOf(cause.headers.get('retry-after'), facts.message, now, random);
        return new ProviderError('RATE_LIMITED', message, { ...opts, retryAt });
      }
      if (status === 401) {
        return new ProviderError('TEMPORARY', message, {
          ...opts,
          detail: 'authError',
          accessTokenRejected: true,
        });
      }
      return undefined;
    },
  })(error);
}

function isRateLimit(facts: ReturnType<typeof factsOf>): boolean {
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

function factsOf(json: unknown) {
  const errors = (json as GoogleErrorBody | null | undefined)?.error?.errors;
  const items = Array.isArray(errors) ? errors : [];
  const strings = (key: 'reason' | 'domain') =>
    items.map((i) => i?.[key]).filter((v): v is string => typeof v === 'string');
  return {
    reasons: strings('reason'),
    domains: strings('domain'),
    status: jsonField(json, 'error', 'status'),
    message: jsonField(json, 'error', 'message'),
  };
}
