import { authorizedCall, ProviderError, type ProviderContext } from '@pdeck/integration-sdk';
import type { QueryValue } from '@pdeck/integration-sdk';
import { TRELLO_API, TRELLO_ID } from './trello.catalog.js';
import { mapTrelloError } from './trello.errors.js';

export interface TrelloCall {
  /** Label for logs and metrics, e.g. 'boards.cards'. */
  operation: string;
  method?: 'GET' | 'POST' | 'DELETE';
  /** Path below /1, segments already encoded (see `segment`). */
  path: string;
  query?: Record<string, QueryValue>;
  json?: unknown;
  expect?: 'json' | 'none';
  /** Response body cap; the client's 1 MiB default when unset (see PAGE_MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
  /**
   * Set for paths that carry the token itself (/tokens/{token}/...): errors then leave without
   * URL or cause, so the token cannot reach a log line through an error message, and a redirect
   * is refused rather than followed with the token in its path.
   */
  tokenInPath?: boolean;
}

/** Where the app's public API key comes from (the consumer key; configuration, not per user). */
export type ApiKeySource = () => string;

/**
 * RFC 5849 style header with just the key and the token: one of the three documented ways to
 * authenticate (https://developer.atlassian.com/cloud/trello/guides/rest-api/authorization/),
 * and the one that keeps the token out of URLs and therefore out of access logs, proxies and
 * error messages. Values are percent-encoded as OAuth requires (a no-op for Trello's hex keys and
 * tokens).
 */
export function trelloAuthorization(apiKey: string, token: string): string {
  return `OAuth oauth_consumer_key="${oauthEncode(apiKey)}", oauth_token="${oauthEncode(token)}"`;
}

/**
 * One authenticated Trello call; failures leave classified, so callers can branch on
 * ProviderError codes. A path carrying the token gets errors without URL or cause.
 */
export function callTrello<T>(
  ctx: ProviderContext,
  apiKey: ApiKeySource,
  call: TrelloCall,
): Promise<T> {
  return authorizedCall<T>(
    ctx,
    (accessToken) => ({
      operation: call.operation,
      method: call.method ?? 'GET',
      url: `${TRELLO_API}${call.path}`,
      query: call.query,
      json: call.json,
      headers: { authorization: trelloAuthorization(apiKey(), accessToken) },
      expect: call.expect ?? 'json',
      maxResponseBytes: call.maxResponseBytes,
      redirect: call.tokenInPath ? 'error' : 'follow',
    }),
    (error) => {
      const mapped = mapTrelloError(error);
      if (!call.tokenInPath) return mapped;
      return new ProviderError(mapped.code, `${TRELLO_ID} ${call.operation}: ${mapped.code}`, {
        provider: TRELLO_ID,
        status: mapped.status,
        retryAt: mapped.retryAt,
        detail: mapped.detail,
        rateLimitScope: mapped.rateLimitScope,
        operation: call.operation,
      });
    },
  );
}

/** A path segment: ids are hex, but a configured board id is user input. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

function oauthEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
