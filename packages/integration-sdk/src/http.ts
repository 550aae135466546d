export type QueryValue = string | number | boolean | undefined | string[];

export interface ProviderRequest {
  provider: string;
  /** Defaults to POST when a body (json, form or body) is given, GET otherwise. */
  method?: string;
  url: string | URL;
  /** Added to any query already in url; undefined values are skipped, arrays repeat the key. */
  query?: Record<string, QueryValue>;
  headers?: Record<string, string>;
  json?: unknown;
  form?: Record<string, string | undefined>;
  body?: string;
  /** Covers the whole exchange, body included. Default 15000. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Default 'json'; an empty body yields undefined. */
  expect?: 'json' | 'text' | 'none';
  /** Short label for logs and metrics, e.g. 'events.list'. */
  operation?: string;
  /**
   * 'follow' (default) follows redirects as fetch does. 'error' refuses them: a 3xx answer
   * fails the call (ProviderError UNKNOWN, detail `redirect_refused`) without following it or
   * reading its Location. Token and revocation endpoints use 'error': a credential posted there
   * must never be re-sent somewhere else.
   */
  redirect?: 'follow' | 'error';
  /**
   * The most response body bytes read (after decompression); a longer body fails the call
   * (ProviderError UNKNOWN, detail `response_too_large`) as soon as the limit is passed, never
   * buffering more. Default DEFAULT_MAX_RESPONSE_BYTES (1 MiB); listing pages declare
   * PAGE_MAX_RESPONSE_BYTES, token endpoints TOKEN_MAX_RESPONSE_BYTES.
   */
  maxResponseBytes?: number;
}

export interface ProviderResponse<T> {
  status: number;
  headers: Headers;
  data: T;
  /** The URL actually fetched (after origin mapping and redirects), without its query string. */
  url: string;
}

export const DEFAULT_TIMEOUT_MS = 15_000;
/** Response body cap of an ordinary API call. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
/**
 * Response body cap of a listing page whose size the provider sets (Google's events.list at
 * 2,500 events, Trello's open cards of a board): tens of kilobytes per item are documented.
 */
export const PAGE_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
/** Response body cap of token, revocation and OAuth 1.0a endpoints: their answers are a few hundred bytes. */
export const TOKEN_MAX_RESPONSE_BYTES = 64 * 1024;
/** How much of a non-2xx body is read for classification; the rest is discarded unread. */
export const ERROR_BODY_READ_LIMIT = 64 * 1024;
/** Used for a 429 without a usable Retry-After, so callers always get a concrete retryAt. */
export const DEFAULT_RATE_LIMIT_DELAY_MS = 60_000;

export type BoundProviderRequest = Omit<ProviderRequest, 'provider'>;

/**
 * The HTTP client a provider receives in its context: already bound to the provider id, with
 * origin overrides, timeouts, rate budgets and secret-free logging applied by the framework.
 */
export interface ProviderHttp {
  request<T = unknown>(req: BoundProviderRequest): Promise<ProviderResponse<T>>;
}
