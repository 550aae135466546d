import {
  authorizedCall,
  type BearerApiCall,
  ProviderError,
  type ProviderContext,
} from '@pdeck/integration-sdk';
import { TRELLO_API, TRELLO_ID } from './trello.catalog.js';
import { mapTrelloError } from './trello.errors.js';

/** A call by path below /1 (segments already encoded, see `segment`), as for a bearer API. */
export type TrelloCall = BearerApiCall & {
  /**
   * Set for paths that carry the token itself (/tokens/{token}/...): errors then leave without
   * URL or cause, so the token cannot reach a log line through an error message, and a redirect
   * is refused rather than followed with the token in its path.
   */
  tokenInPath?: boolean;
};

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
  const { path, tokenInPath, ...request } = call;
  return authorizedCall<T>(
    ctx,
    (accessToken) => ({
      ...request,
      method: call.method ?? 'GET',
      url: `${TRELLO_API}${path}`,
      headers: { authorization: trelloAuthorization(apiKey(), accessToken) },
      expect: call.expect ?? 'json',
      redirect: tokenInPath ? 'error' : 'follow',
    }),
    (error) => {
      const mapped = mapTrelloError(error);
      if (!tokenInPath) return mapped;
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
