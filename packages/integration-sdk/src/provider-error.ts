export type ProviderErrorCode =
  | 'RATE_LIMITED'
  | 'TEMPORARY'
  | 'AUTH_REVOKED'
  | 'CURSOR_INVALID'
  | 'NOT_FOUND'
  | 'PERMISSION'
  | 'UNKNOWN';

/**
 * Codes that retrying cannot fix. UNKNOWN is deliberately absent: an unclassified failure is
 * retried a bounded number of times rather than given up on at once. CURSOR_INVALID is absent
 * because the caller recovers by resetting the cursor and doing a full sync.
 */
export const PERMANENT_CODES: ReadonlySet<ProviderErrorCode> = new Set<ProviderErrorCode>([
  'AUTH_REVOKED',
  'PERMISSION',
  'NOT_FOUND',
]);

export type RateLimitScope = 'app' | 'connection' | 'method';

export interface ProviderErrorOptions {
  cause?: unknown;
  provider?: string;
  /** HTTP status of the response that caused the error, when there was one. */
  status?: number;
  /** When the provider allows the next attempt; only meaningful for RATE_LIMITED. */
  retryAt?: Date;
  /** The provider's own error string (e.g. 'invalid_grant'); never a token or other secret. */
  detail?: string;
  /**
   * RATE_LIMITED only: whose budget ran out. `app` = the limit is shared by every user of our
   * client/key (Trello API_KEY_LIMIT_EXCEEDED), so the engine pauses the provider for everyone;
   * `method` = only this operation for this account (Slack limits per method and workspace), so
   * the engine pauses just that; `connection` (the default) pauses the connection.
   */
  rateLimitScope?: RateLimitScope;
  /**
   * The API refused the access token although it is not due to expire (revoked early, rotated
   * at the provider). The engine marks it expired, so the retry refreshes it; a dead grant then
   * shows as invalid_grant at that refresh and the connection moves to needs_reauth.
   */
  accessTokenRejected?: boolean;
  /**
   * The provider operation that failed (e.g. 'boards.members'), for run reports and logs.
   * Defaults to the operation of an HttpStatusError cause.
   */
  operation?: string;
}

/** A provider failure classified so sync and auth code can decide between retry, backoff and giving up. */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly code: ProviderErrorCode;
  readonly provider?: string;
  readonly status?: number;
  readonly retryAt?: Date;
  readonly detail?: string;
  readonly rateLimitScope?: RateLimitScope;
  readonly accessTokenRejected: boolean;
  readonly operation?: string;

  constructor(code: ProviderErrorCode, message: string, options: ProviderErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.provider = options.provider;
    this.status = options.status;
    this.retryAt = options.retryAt;
    this.detail = options.detail;
    this.rateLimitScope = options.rateLimitScope;
    this.accessTokenRejected = options.accessTokenRejected ?? false;
    this.operation = options.operation ?? operationOf(options.cause);
  }

  get permanent(): boolean {
    return PERMANENT_CODES.has(this.code);
  }
}

export function isProviderError(e: unknown): e is ProviderError {
  return e instanceof ProviderError;
}

/**
 * The shared code set for any failure out of provider code. Providers map their errors at their
 * own boundary (their HTTP helpers), so a ProviderError passes through unchanged, never mapped a
 * second time; anything else escaped unmapped (a bug in the provider) and becomes UNKNOWN, which
 * is retried a bounded number of times.
 */
export function asProviderError(error: unknown, provider: string): ProviderError {
  if (isProviderError(error)) return error;
  const message = error instanceof Error ? error.message : 'unexpected failure';
  return new ProviderError('UNKNOWN', `${provider}: ${message}`, { cause: error, provider });
}

function operationOf(cause: unknown): string | undefined {
  const operation = (cause as { operation?: unknown } | null | undefined)?.operation;
  return typeof operation === 'string' ? operation : undefined;
}

/**
 * A failure an integration finds itself rather than one an HTTP answer carries: an answer of the
 * wrong shape, a missing field, a cursor it cannot use. "<provider>: <message>", with `detail` a
 * short word for run reports and logs.
 */
export function providerFailure(
  provider: string,
  code: ProviderErrorCode,
  message: string,
  detail?: string,
  options: Omit<ProviderErrorOptions, 'provider' | 'detail'> = {},
): ProviderError {
  return new ProviderError(code, `${provider}: ${message}`, { ...options, provider, detail });
}
