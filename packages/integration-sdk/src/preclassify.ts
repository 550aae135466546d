import { isHttpStatusError, type HttpStatusError } from './http-status-error.js';
import { isProviderError, ProviderError } from './provider-error.js';

/**
 * The start every provider's error mapper shares. The shared HTTP client has already classified
 * 429 (and 503 with Retry-After), 5xx and network failures; those pass through, except that a
 * rate limit is handed to `rateLimited` when the provider reads its own headers or body for the
 * wait. Anything that is not an HTTP answer is UNKNOWN. What is left, the HttpStatusError, is
 * for the provider's own status rules.
 */
export function preclassify(
  error: unknown,
  provider: string,
  rateLimited?: (cause: HttpStatusError) => ProviderError,
): ProviderError | HttpStatusError {
  if (isProviderError(error)) {
    if (rateLimited && error.code === 'RATE_LIMITED' && isHttpStatusError(error.cause)) {
      return rateLimited(error.cause);
    }
    return error;
  }
  if (isHttpStatusError(error)) return error;
  const message = error instanceof Error ? error.message : 'unexpected failure';
  return new ProviderError('UNKNOWN', `${provider}: ${message}`, { cause: error, provider });
}
