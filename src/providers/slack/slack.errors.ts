import {
  createErrorMapper,
  parseRetryAfter,
  ProviderError,
  type ProviderErrorCode,
  type HttpStatusError,
} from '@pdeck/integration-sdk';
import { SLACK_ID } from './slack.catalog.js';
import type { SlackResponse } from './slack.types.js';

/** A 429 without a readable Retry-After: Slack's windows are a minute long. */
export const DEFAULT_RETRY_MS = 60_000;
/** Error codes are echoed into messages and `detail`: only a short token, never other text. */
const CODE = /^[a-z0-9_.-]{1,64}$/i;
/** Scope names (`groups:read`), comma-separated when several are needed. */
const SCOPES = /^[a-z0-9_.:,-]{1,200}$/i;

/**
 * Slack reports almost every failure as HTTP 200 `{ok:false, error}`; only 429 has a meaning of
 * its own (https://docs.slack.dev/apis/web-api/rate-limits). The codes by what they mean for us:
 */
const BY_CODE: Record<string, ProviderErrorCode> = {
  // The grant is gone: only reinstalling helps.
  invalid_auth: 'AUTH_REVOKED',
  not_authed: 'AUTH_REVOKED',
  account_inactive: 'AUTH_REVOKED',
  token_revoked: 'AUTH_REVOKED',
  no_permission: 'PERMISSION',
  // A rotating access token past its 12 hours: marked rejected below, so the engine expires it
  // and the retry refreshes it (https://docs.slack.dev/authentication/using-token-rotation).
  token_expired: 'TEMPORARY',
  missing_scope: 'PERMISSION',
  not_allowed_token_type: 'PERMISSION',
  ekm_access_denied: 'PERMISSION',
  access_denied: 'PERMISSION',
  team_access_not_granted: 'PERMISSION',
  // A conversation this token cannot read (left, never joined, gone): that resource only.
  not_in_channel: 'NOT_FOUND',
  channel_not_found: 'NOT_FOUND',
  thread_not_found: 'NOT_FOUND',
  user_not_found: 'NOT_FOUND',
  invalid_cursor: 'CURSOR_INVALID',
  internal_error: 'TEMPORARY',
  fatal_error: 'TEMPORARY',
  service_unavailable: 'TEMPORARY',
  request_timeout: 'TEMPORARY',
  team_added_to_org: 'TEMPORARY',
};

/**
 * A failure at the HTTP level (the shared client's verdict): a 429 becomes RATE_LIMITED for this
 * method of this workspace only, at Slack's Retry-After; other methods and workspaces go on. Other
 * 4xx are UNKNOWN, not the default table's verdicts: Slack's own come as `ok:false`. 5xx TEMPORARY.
 */
export function mapSlackHttpError(error: unknown, method: string, now = new Date()): ProviderError {
  const limited = (cause: HttpStatusError) => rateLimited(method, now, cause);
  return createErrorMapper({
    provider: SLACK_ID,
    rateLimited: limited,
    classify: (cause, { message, ...options }) =>
      cause.status === 429
        ? limited(cause)
        : cause.status < 500
          ? new ProviderError('UNKNOWN', message, options)
          : undefined,
  })(error);
}

/** An `ok: false` answer, classified by its error code. */
export function mapSlackApiError(
  method: string,
  body: SlackResponse | undefined,
  now = new Date(),
): ProviderError {
  const raw = typeof body?.error === 'string' && CODE.test(body.error) ? body.error : 'unknown';
  if (raw === 'ratelimited' || raw === 'rate_limited')
    return rateLimited(method, now, undefined, raw);
  const needed =
    raw === 'missing_scope' && typeof body?.needed === 'string' && SCOPES.test(body.needed)
      ? ` (needs ${body.needed})`
      : '';
  const code = Object.hasOwn(BY_CODE, raw) ? BY_CODE[raw] : 'UNKNOWN';
  return new ProviderError(code, `${SLACK_ID} ${method}: ${raw}${needed}`, {
    provider: SLACK_ID,
    status: 200,
    detail: raw,
    operation: method,
    accessTokenRejected: raw === 'token_expired',
  });
}

/** RATE_LIMITED for this method of this workspace only, at the 429's Retry-After if any. */
function rateLimited(method: string, now: Date, cause?: HttpStatusError, raw = 'ratelimited') {
  const retryAt =
    parseRetryAfter(cause?.headers.get('retry-after'), now) ??
    new Date(now.getTime() + DEFAULT_RETRY_MS);
  const message = `${SLACK_ID} ${method}: ${cause ? 'rate limited' : raw}`;
  return new ProviderError('RATE_LIMITED', message, {
    cause,
    provider: SLACK_ID,
    status: cause?.status,
    retryAt,
    rateLimitScope: 'method',
    detail: raw,
    operation: method,
  });
}
