import {
  createErrorMapper,
  type HttpStatusError,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  ProviderError,
  type ProviderErrorCode,
  providerFailure,
  type ProviderErrorOptions,
} from '@pdeck/integration-sdk';
import { JIRA_ID } from './jira.catalog.js';
import type { JiraErrorBody } from './jira.types.js';

/** A 429 without any readable wait: back off 30-60 s, jittered (the client's default is a flat 60 s). */
export const RATE_LIMIT_BASE_MS = 30_000;
export const RATE_LIMIT_JITTER_MS = 30_000;
/**
 * On top of a wait Jira named: up to 20% of it, at most 5 s, so the workers one 429 stopped do not
 * all come back on the same tick and trip the burst limit again. Atlassian asks apps to add jitter
 * (https://developer.atlassian.com/cloud/jira/platform/build-an-app-that-respects-rate-limits/).
 */
export const HEADER_JITTER_RATIO = 0.2;
export const HEADER_JITTER_MAX_MS = 5_000;
/** How much of Jira's own error text goes into a message: enough to diagnose, bounded for logs. */
export const MESSAGE_TEXT_LIMIT = 200;

/** The API gateway's 401 for a cloud id the token has no Jira scope on (e.g. a Confluence-only site). */
const SCOPE_MISMATCH = /scope does not match/i;
/** `yyyy-MM-ddTHH:mmZ` (https://developer.atlassian.com/cloud/jira/platform/rate-limiting). */
const RESET_MINUTE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/;
/** A rate-limit reason is echoed into `detail`: only a short token, never arbitrary header text. */
const REASON = /^[a-z0-9._-]{1,64}$/i;

/**
 * Maps any failure of a call to api.atlassian.com (Jira REST v3 through the gateway, and the
 * accessible-resources listing) to the shared code set: Jira's own rules below, the SDK's default
 * table for 403, 404, 408, 5xx and the rest. `now` and `random` are parameters so the backoff is
 * testable. Messages carry Jira's own error text (the first `errorMessages` entry, or the
 * gateway's `message`), never header values other than the rate-limit reason, so no credential
 * can reach a log through them.
 */
export function mapJiraError(
  error: unknown,
  now: Date = new Date(),
  random: () => number = Math.random,
): ProviderError {
  return createErrorMapper({
    provider: JIRA_ID,
    // A rate limit is re-read for Jira's own headers and to tell the quota from burst limits.
    rateLimited: (cause) => rateLimited(cause, now, random),
    // Jira's own text follows the status, in every error of this mapper.
    message: (cause) => {
      const jiraText = errorText(cause.json);
      return jiraText ? `${cause.message}: ${jiraText}` : cause.message;
    },
    classify: (cause, base) => {
      const { message, ...opts } = base;
      if (cause.status === 429) return rateLimited(cause, now, random);
      if (cause.status === 401) return unauthorized(cause, message, opts);
      // Jira answers 410 Gone for removed APIs (the old /rest/api/3/search, replaced by
      // /search/jql: https://developer.atlassian.com/changelog/#CHANGE-2046). We call none of
      // them, so a 410 means an endpoint we rely on was removed: retrying cannot help, and the
      // failure must be visible.
      if (cause.status === 410) {
        return new ProviderError('PERMISSION', message, { ...opts, detail: 'endpoint_removed' });
      }
      // Invalid JQL (e.g. a user's JQL override) and invalid request bodies, with the reason in
      // `errorMessages` / `errors`; retrying the same request gives the same answer.
      if (cause.status === 400) {
        return new ProviderError('UNKNOWN', message, { ...opts, detail: 'bad_request' });
      }
      // 404: an issue or site this user can no longer see ("does not exist or you do not have
      // permission"), NOT_FOUND by the default table, as 403 PERMISSION and 408/5xx TEMPORARY.
      return undefined;
    },
  })(error);
}

/**
 * A failure of this integration's own checks (an answer of the wrong shape, a missing site),
 * labelled `jira: <message>`.
 */
export function jiraError(
  code: ProviderErrorCode,
  message: string,
  detail?: string,
  options: ProviderErrorOptions = {},
): ProviderError {
  return providerFailure(JIRA_ID, code, message, detail, options);
}

/**
 * `{"code":401,"message":"Unauthorized; scope does not match"}` is the gateway refusing the cloud
 * id, not the token: the site is not a Jira site for this grant (Confluence-only) or the grant
 * lacks a scope. A refresh returns the same scopes, so it is PERMISSION.
 *
 * Any other 401 is TEMPORARY with `accessTokenRejected`, not AUTH_REVOKED: the engine marks the
 * token expired, the retry refreshes it, and a dead grant then surfaces as invalid_grant at the
 * token endpoint (https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/), which
 * moves the connection to needs_reauth. A 401 alone would have sent a connection that one refresh
 * could save to needs_reauth, which only the user can undo.
 */
function unauthorized(
  error: HttpStatusError,
  text: string,
  opts: ProviderErrorOptions,
): ProviderError {
  const body = asBody(error.json);
  if (typeof body.message === 'string' && SCOPE_MISMATCH.test(body.message)) {
    return new ProviderError('PERMISSION', text, { ...opts, detail: 'scope_mismatch' });
  }
  return new ProviderError('TEMPORARY', text, {
    ...opts,
    detail: 'unauthorized',
    accessTokenRejected: true,
  });
}

/**
 * Jira's 429 headers (https://developer.atlassian.com/cloud/jira/platform/rate-limiting):
 * `RateLimit-Reason` says which of the independent limits was hit.
 * - `jira-quota-*`: the points-based hourly quota. It belongs to the app on one site, shared by
 *   every user of that site. The engine has no per-site scope, only `connection` or `app`:
 *   `connection` would let the other connections on the same site keep spending an exhausted
 *   quota (each drawing 429s until the hour turns), so we pause the provider for everyone. That
 *   over-pauses other sites, the safe side of the trade: waiting costs minutes, while a request
 *   sent before the wait ends fails again with "the same or longer Retry-After period".
 * - `jira-burst-based` (per second, one endpoint) and `jira-per-issue-on-write` (one issue): this
 *   connection's calls only.
 * Unknown reasons (older ones such as `jira-cost-based`, or none) stay on the connection.
 */
function rateLimited(error: HttpStatusError, now: Date, random: () => number): ProviderError {
  const headerReason =
    error.headers.get('ratelimit-reason') ?? error.headers.get('x-beta-ratelimit-reason');
  const reason = headerReason?.trim();
  const detail = reason && REASON.test(reason) ? reason : undefined;
  const scope = detail?.toLowerCase().startsWith('jira-quota') ? 'app' : 'connection';
  return new ProviderError('RATE_LIMITED', `${error.message}${detail ? ` (${detail})` : ''}`, {
    cause: error,
    provider: JIRA_ID,
    status: error.status,
    retryAt: retryAtOf(error.headers, now, random),
    detail,
    rateLimitScope: scope,
  });
}

/**
 * `Retry-After` (seconds) wins; then `Beta-Retry-After` (seconds), reported alongside the
 * points-based quota's beta headers but UNCONFIRMED as a stable header, hence second; then
 * `X-RateLimit-Reset` (https://developer.atlassian.com/cloud/jira/platform/rate-limiting); else
 * 30-60 s. Header waits get the small jitter above, capped at MAX_RETRY_AFTER_MS.
 */
function retryAtOf(headers: Headers, now: Date, random: () => number): Date {
  const nowMs = now.getTime();
  const named =
    parseRetryAfter(headers.get('retry-after'), now) ??
    parseRetryAfter(headers.get('beta-retry-after'), now) ??
    resetOf(headers.get('x-ratelimit-reset'), now);
  const r = Math.min(Math.max(random(), 0), 1);
  if (!named) return new Date(nowMs + RATE_LIMIT_BASE_MS + Math.floor(r * RATE_LIMIT_JITTER_MS));
  const wait = named.getTime() - nowMs;
  const jitter = Math.floor(Math.min(r * HEADER_JITTER_RATIO * wait, HEADER_JITTER_MAX_MS));
  return new Date(nowMs + Math.min(wait + jitter, MAX_RETRY_AFTER_MS));
}

/**
 * `X-RateLimit-Reset` is "the request timestamp plus the Retry-After period" printed to the minute.
 * Whether that minute is rounded or truncated is UNCONFIRMED, so the end of the named minute is
 * taken (never early). A minute already over is stale (a minute-precision reset names the current
 * minute at the earliest) and says nothing usable: the caller backs off by default instead.
 */
function resetOf(value: string | null, now: Date): Date | undefined {
  const text = value?.trim();
  if (!text || !RESET_MINUTE.test(text)) return undefined;
  const end = Date.parse(text) + 60_000;
  if (!Number.isFinite(end) || end <= now.getTime()) return undefined;
  return new Date(Math.min(end, now.getTime() + MAX_RETRY_AFTER_MS));
}

/**
 * Jira's `{errorMessages, errors}` (first message, then the per-field values) or the gateway's
 * `{code, message}`, on one line and bounded. Non-JSON bodies (HTML error pages) give nothing.
 */
function errorText(json: unknown): string | undefined {
  const body = asBody(json);
  const first = Array.isArray(body.errorMessages)
    ? body.errorMessages.find((m) => typeof m === 'string' && m.trim())
    : undefined;
  const fields =
    body.errors && typeof body.errors === 'object' && !Array.isArray(body.errors)
      ? Object.values(body.errors).filter((v): v is string => typeof v === 'string' && !!v.trim())
      : [];
  const parts = [first, ...fields].filter((p): p is string => p !== undefined);
  if (parts.length === 0 && typeof body.message === 'string') parts.push(body.message);
  const text = parts.join('; ').replace(/\s+/g, ' ').trim();
  if (!text) return undefined;
  return text.length > MESSAGE_TEXT_LIMIT ? `${text.slice(0, MESSAGE_TEXT_LIMIT - 1)}…` : text;
}

function asBody(json: unknown): JiraErrorBody {
  return (json && typeof json === 'object' && !Array.isArray(json) ? json : {}) as JiraErrorBody;
}
