import type { ConnectionCredentials, ProviderContext } from './contract.js';
import type { BoundProviderRequest, QueryValue } from './http.js';

export interface BearerCall {
  /** Label for logs and metrics, e.g. 'events.list'. */
  operation: string;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  query?: Record<string, QueryValue>;
  json?: unknown;
  expect?: 'json' | 'none';
  /** Response body cap; the client's 1 MiB default when unset (see PAGE_MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
}

/**
 * One authenticated call of a provider. The token is read from the context on every call (the
 * framework refreshes it; a long sync outlives one token), `request` puts it where the provider
 * wants it, and failures leave here already classified by the provider's `mapError`. A
 * cancellation by the caller passes through untouched: it is not a provider failure.
 */
export async function authorizedCall<T>(
  ctx: ProviderContext,
  request: (accessToken: string) => BoundProviderRequest,
  mapError: (error: unknown) => Error,
  /** Which token of the connection to send (Slack: the bot's or the user's); the primary one by default. */
  token: (credentials: ConnectionCredentials) => string = (c) => c.accessToken,
): Promise<T> {
  const accessToken = token(await ctx.credentials());
  try {
    return (await ctx.http.request<T>(request(accessToken))).data;
  } catch (error) {
    if (ctx.signal?.aborted) throw error;
    throw mapError(error);
  }
}

/** One call with the connection's OAuth 2.0 bearer token (Google Calendar, Jira). */
export function bearerCall<T>(
  ctx: ProviderContext,
  call: BearerCall,
  mapError: (error: unknown) => Error,
): Promise<T> {
  return authorizedCall<T>(
    ctx,
    (accessToken) => ({
      operation: call.operation,
      method: call.method ?? 'GET',
      url: call.url,
      query: call.query,
      json: call.json,
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
      expect: call.expect ?? 'json',
      maxResponseBytes: call.maxResponseBytes,
    }),
    mapError,
  );
}

/** A call of a bearer API, by path under the API's base URL. */
export type BearerApiCall = Omit<BearerCall, 'url'> & { path: string };

/**
 * A provider's API in one line: every call goes to `baseUrl + path` with the connection's bearer
 * token, through the framework's HTTP client (origin overrides, budgets, timeouts, safe logs),
 * and fails only with what `mapError` makes of it.
 */
export function bearerApi(
  baseUrl: string,
  mapError: (error: unknown) => Error,
): <T>(ctx: ProviderContext, call: BearerApiCall) => Promise<T> {
  return <T>(ctx: ProviderContext, { path, ...call }: BearerApiCall) =>
    bearerCall<T>(ctx, { ...call, url: `${baseUrl}${path}` }, mapError);
}
