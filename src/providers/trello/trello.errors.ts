import {
  createErrorMapper,
  type HttpStatusError,
  jsonField,
  parseRetryAfter,
  ProviderError,
  type ProviderErrorOptions,
} from '@pdeck/integration-sdk';
import { TRELLO_ID } from './trello.catalog.js';

/**
 * Trello's key and token windows are 10 s; no Retry-After is documented
 * (https://developer.atlassian.com/cloud/trello/guides/rest-api/rate-limits).
 */
export const RATE_WINDOW_MS = 10_000;
/** Spread over 2 s so the workers a 429 stopped do not all come back on the same tick. */
export const RATE_JITTER_MS = 2_000;
/**
 * For a 429 we cannot place in a 10 s window: MEMBER_LIMIT_EXCEEDED (the /1/members bucket is
 * 100 per 900 s) or an unknown body. Longer, because retrying too early adds to the 200 rejected
 * calls after which Trello blocks the whole key
 * (https://developer.atlassian.com/cloud/trello/guides/rest-api/rate-limits).
 */
export const OTHER_LIMIT_MS = 60_000;

/**
 * 429 `error` codes of the 10 s windows
 * (https://developer.atlassian.com/cloud/trello/guides/rest-api/rate-limits); the DB-time one
 * is reported by secondary sources, not by that page.
 */
const TEN_SECOND_LIMITS: ReadonlySet<string> = new Set([
  'API_TOKEN_LIMIT_EXCEEDED',
  'API_KEY_LIMIT_EXCEEDED',
  'API_TOKEN_DB_LIMIT_EXCEEDED',
]);

/**
 * Maps any failure of a Trello call to the shared code set (`now` and `random` are parameters so
 * the backoff is testable). The SDK's default table covers 403, 404 (a board deleted or no longer
 * seen by this token), 408 and 5xx; Trello's own rules are below.
 *
 * 429: `detail` is Trello's body code, so the engine can tell API_KEY_LIMIT_EXCEEDED (block the
 * app: every connection shares the key) from API_TOKEN_LIMIT_EXCEEDED (block this connection).
 */
export function mapTrelloError(
  error: unknown,
  now: Date = new Date(),
  random: () => number = Math.random,
): ProviderError {
  return createErrorMapper({
    provider: TRELLO_ID,
    // A 429 is re-read because the client's default wait (60 s) ignores Trello's 10 s windows.
    rateLimited: (cause) => rateLimited(cause, now, random),
    // From the operation and status, never from the URL: token endpoints carry the token in the path.
    message: ({ operation, status }) =>
      `${TRELLO_ID}${operation ? ` ${operation}` : ''}: HTTP ${status}`,
    classify(error, base) {
      const { status } = error;
      if (status === 429) return rateLimited(error, now, random);
      if (status === 401) return unauthorized(error, base);
      // Any other 4xx (410 included) is UNKNOWN, with Trello's body code.
      if (status < 500 && ![403, 404, 408].includes(status)) {
        return new ProviderError('UNKNOWN', base.message, { ...base, detail: bodyCode(error) });
      }
      return undefined;
    },
  })(error);
}

/**
 * Trello answers 401 with a plain-text body. `invalid token` (revoked or expired) is the commonly
 * reported one, and the usual advice is to treat any 401 as "re-authorize", which we do (an
 * OAuth 1.0a token has no refresh, so the SDK's refresh-and-retry default does not apply), with
 * one exception: `unauthorized ... permission requested` is, by common report, what a valid token
 * gets for a board it may no longer read (UNCONFIRMED: not in Trello's documentation). Mapping
 * that to PERMISSION skips the one board instead of disconnecting the user; a really dead token
 * is still caught, because every run first lists boards on /1/members/me, which answers
 * `invalid token`.
 */
function unauthorized(
  error: HttpStatusError,
  base: ProviderErrorOptions & { message: string },
): ProviderError {
  const body = error.bodyText.trim().toLowerCase();
  if (/^unauthorized\b.*\bpermission requested/.test(body)) {
    return new ProviderError('PERMISSION', base.message, {
      ...base,
      detail: 'unauthorized_permission',
    });
  }
  const detail = body.startsWith('invalid token') ? 'invalid_token' : 'unauthorized';
  return new ProviderError('AUTH_REVOKED', base.message, { ...base, detail });
}

function rateLimited(error: HttpStatusError, now: Date, random: () => number): ProviderError {
  const code = bodyCode(error);
  const jitter = Math.floor(Math.min(Math.max(random(), 0), 1) * RATE_JITTER_MS);
  const base = code && TEN_SECOND_LIMITS.has(code) ? RATE_WINDOW_MS : OTHER_LIMIT_MS;
  // Honoured when present (rate-limit headers and Retry-After are not confirmed by Trello's
  // documentation either way).
  const retryAt =
    parseRetryAfter(error.headers.get('retry-after'), now) ??
    new Date(now.getTime() + base + jitter);
  const op = error.operation ? ` ${error.operation}` : '';
  return new ProviderError('RATE_LIMITED', `${TRELLO_ID}${op}: HTTP 429 (${code ?? 'no code'})`, {
    cause: error,
    provider: TRELLO_ID,
    status: 429,
    retryAt,
    detail: code,
    rateLimitScope: code === 'API_KEY_LIMIT_EXCEEDED' ? 'app' : 'connection',
  });
}

/** `{"error":"API_KEY_LIMIT_EXCEEDED",...}` -> the code; only a short identifier-like string. */
function bodyCode(error: HttpStatusError): string | undefined {
  const code = jsonField(error.json, 'error');
  return code && /^[A-Za-z0-9_]{1,64}$/.test(code) ? code : undefined;
}
