import type { HttpStatusError } from './http-status-error.js';
import { preclassify } from './preclassify.js';
import { isProviderError, ProviderError, type ProviderErrorOptions } from './provider-error.js';

export interface ErrorMapperRules {
  provider: string;
  /** The provider's own error word from a JSON error body (e.g. Graph's `error.code`). */
  detail?(json: unknown): string | undefined;
  /**
   * The error message, for providers whose URLs must stay out of it (a token in the path);
   * default: "<provider> <operation>: <METHOD> <url without query>: HTTP <status> (<detail>)".
   */
  message?(error: HttpStatusError, detail: string | undefined): string;
  /**
   * The provider's own rules, tried before the defaults; undefined falls through to them.
   * `base` carries cause, provider, status and detail for the ProviderError to build.
   */
  classify?(
    error: HttpStatusError,
    base: ProviderErrorOptions & { message: string },
  ): ProviderError | undefined;
  /** A rate limit the shared client already classified, for providers that read their own wait. */
  rateLimited?(cause: HttpStatusError): ProviderError;
  /**
   * 410 Gone means the sync cursor is dead and a full pass must run (Google's sync tokens,
   * Graph's delta links). Off by default: elsewhere 410 is a resource that is gone.
   */
  goneMeansCursorInvalid?: boolean;
}

/**
 * Builds a provider's one error mapper: any failure of its API calls leaves as a ProviderError.
 * The shared HTTP client has classified 429, 5xx and network failures already; what is left is
 * a 4xx the provider's `classify` may claim, else the default table below:
 *
 * - 401: TEMPORARY with `accessTokenRejected`: the engine refreshes the token and retries, and
 *   only a refused refresh (invalid_grant) sends the user to reconnect. A 401 alone must not,
 *   since a token revoked early by a rotation is saved by one refresh.
 * - 403 PERMISSION, 404 NOT_FOUND, 410 NOT_FOUND (or CURSOR_INVALID when `goneMeansCursorInvalid`).
 * - 408 and 5xx TEMPORARY; anything else UNKNOWN (retried a bounded number of times).
 */
export function createErrorMapper(rules: ErrorMapperRules): (error: unknown) => ProviderError {
  return (error) => {
    const pre = preclassify(error, rules.provider, rules.rateLimited);
    if (isProviderError(pre)) return pre;
    const detail = rules.detail?.(pre.json);
    const base = {
      cause: pre,
      provider: rules.provider,
      status: pre.status,
      detail,
      message: rules.message?.(pre, detail) ?? `${pre.message}${detail ? ` (${detail})` : ''}`,
    };
    const claimed = rules.classify?.(pre, base);
    if (claimed) return claimed;
    const { message, ...opts } = base;
    switch (pre.status) {
      case 401:
        return new ProviderError('TEMPORARY', message, { ...opts, accessTokenRejected: true });
      case 403:
        return new ProviderError('PERMISSION', message, opts);
      case 404:
        return new ProviderError('NOT_FOUND', message, opts);
      case 410:
        return new ProviderError(
          rules.goneMeansCursorInvalid ? 'CURSOR_INVALID' : 'NOT_FOUND',
          message,
          opts,
        );
      default:
        return pre.status === 408 || pre.status >= 500
          ? new ProviderError('TEMPORARY', message, opts)
          : new ProviderError('UNKNOWN', message, opts);
    }
  };
}

/** A string field of a JSON error body by path (`error.code`), or undefined. */
export function jsonField(json: unknown, ...path: string[]): string | undefined {
  let at: unknown = json;
  for (const key of path) {
    if (!at || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return typeof at === 'string' ? at : undefined;
}
