import {
  parseRetryAfter,
  preclassify,
  isProviderError,
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
const BY_CODE: Record<string, { code: ProviderErrorCode; rejected?: true }> = {
  // The grant is gone: only reinstalling helps (the issue names these).
  invalid_auth: { code: 'AUTH_REVOKED' },
  not_authed: { code: 'AUTH_REVOKED' },
  account_inactive: { code: 'AUTH_REVOKED' },
  token_revoked: { code: 'AUTH_REVOKED' },
  no_permission: { code: 'PERMISSION' },
  // A rotating access token past its 12 hours: the engine marks it expired and the retry
  // refreshes it (https://docs.slack.dev/authentication/using-token-rotation).
  token_expired: { code: 'TEMPORARY', rejected: true },
  missing_scope: { code: 'PERMISSION' },
  not_allowed_token_type: { code: 'PERMISSION' },
  ekm_access_denied: { code: 'PERMISSION' },
  access_denied: { code: 'PERMISSION' },
  team_access_not_granted: { code: 'PERMISSION' },
  // A conversation this token cannot read (left, never joined, gone): that resource only.
  not_in_channel: { code: 'NOT_FOUND' },
  channel_not_found: { code: 'NOT_FOUND' },
  thread_not_found: { code: 'NOT_FOUND' },
  user_not_found: { code: 'NOT_FOUND' },
  invalid_cursor: { code: 'CURSOR_INVALID' },
  internal_error: { code: 'TEMPORARY' },
  fatal_error: { code: 'TEMPORARY' },
  service_unavailable: { code: 'TEMPORARY' },
  request_timeout: { code: 'TEMPORARY' },
  team_added_to_org: { code: 'TEMPORARY' },
};

/**
 * A failure at the HTTP level (the shared client's verdict): a 429 becomes RATE_LIMITED for this
 * method of this workspace only, at Slack's Retry-After; other methods and workspaces go on.
 */
export function mapSlackHttpError(error: unknown, method: string, now = new Date()): ProviderError {
  const pre = preclassify(error, SLACK_ID, (cause) => rateLimited(cause, method, now));
  if (isProviderError(pre)) return pre;
  if (pre.status === 429) return rateLimited(pre, method, now);
  const code = pre.status >= 500 ? 'TEMPORARY' : 'UNKNOWN';
  return new ProviderError(code, `${SLACK_ID} ${method}: ${pre.message}`, {
    cause: pre,
    provider: SLACK_ID,
    status: pre.status,
    operation: method,
  });
}

/** An `ok: false` answer, classified by its error code. */
export function mapSlackApiError(
  method: string,
  body: SlackResponse | undefined,
  now = new Date(),
): ProviderError {
  const raw = typeof body?.error === 'string' && CODE.test(body.error) ? body.error : 'unknown';
  if (raw === 'ratelimited' || raw === 'rate_limited') {
    return new ProviderError('RATE_LIMITED', `${SLACK_ID} ${method}: ${raw}`, {
      provider: SLACK_ID,
      retryAt: new Date(now.getTime() + DEFAULT_RETRY_MS),
      rateLimitScope: 'method',
      detail: raw,
      operation: method,
    });
  }
  const known = BY_CODE[raw];
  const needed =
    raw === 'missing_scope' && typeof body?.needed === 'string' && SCOPES.test(body.needed)
      ? ` (needs ${body.needed})`
      : '';
  return new ProviderError(known?.code ?? 'UNKNOWN', `${SLACK_ID} ${method}: ${raw}${needed}`, {
    provider: SLACK_ID,
    status: 200,
    detail: raw,
    operation: method,
    accessTokenRejected: known?.rejected ?? false,
  });
}

function rateLimited(cause: HttpStatusError, method: string, now: Date): ProviderError {
  const retryAt =
    parseRetryAfter(cause.headers.get('retry-after'), now) ??
    new Date(now.getTime() + DEFAULT_RETRY_MS);
  return new ProviderError('RATE_LIMITED', `${SLACK_ID} ${method}: rate limited`, {
    cause,
    provider: SLACK_ID,
    status: cause.status,
    retryAt,
    rateLimitScope: 'method',
    detail: 'ratelimited',
    operation: method,
  });
}
