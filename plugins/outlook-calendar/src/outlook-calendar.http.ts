import {
  authorizedCall,
  createErrorMapper,
  jsonField,
  ProviderError,
} from '@pdeck/integration-sdk';
import type { ProviderContext } from '@pdeck/integration-sdk';
import { GRAPH_API, OUTLOOK_CALENDAR_ID as provider } from './outlook-calendar.catalog.js';

/**
 * Graph codes of a dead delta token (https://learn.microsoft.com/en-us/graph/errors), any casing
 * (`SyncStateNotFound` is observed); `syncStateInvalid` is UNCONFIRMED, included to be safe.
 */
const RESYNC = /^(syncstatenotfound|syncstateinvalid|resyncrequired)$/i;

/**
 * Branches on `error.code`, never on `message`. 410 is a dead delta link. Outlook's own codes
 * (InvalidAuthenticationToken, ErrorAccessDenied) are UNCONFIRMED, so the status decides: 401
 * refresh and retry, 403 PERMISSION, 404 NOT_FOUND. 429/503 are handled by the framework.
 */
export const mapGraphError = createErrorMapper({
  provider,
  detail: (json) => jsonField(json, 'error', 'code'),
  goneMeansCursorInvalid: true,
  classify: (error, { message, ...opts }) =>
    error.status < 500 && RESYNC.test(opts.detail ?? '')
      ? new ProviderError('CURSOR_INVALID', message, opts)
      : undefined,
});

export interface GraphCall {
  operation: string;
  url: string;
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  json?: unknown;
  headers?: Record<string, string>;
  maxResponseBytes?: number;
}

/**
 * One Graph call with the bearer token. Links come from response bodies: the token only ever
 * goes to Graph's v1.0 API, whatever a body says.
 */
export function graph<T>(ctx: ProviderContext, { method = 'GET', ...call }: GraphCall) {
  if (!call.url.startsWith(`${GRAPH_API}/`)) throw failure('refusing a link outside Graph');
  const headers = { ...call.headers, accept: 'application/json' };
  const expect = method === 'DELETE' ? 'none' : 'json';
  return authorizedCall<T>(
    ctx,
    (token) => ({
      ...call,
      method,
      expect,
      headers: { ...headers, authorization: `Bearer ${token}` },
    }),
    mapGraphError,
  );
}

export function failure(
  why: string,
  code: 'UNKNOWN' | 'CURSOR_INVALID' = 'UNKNOWN',
  cause?: unknown,
) {
  return new ProviderError(code, `${provider}: ${why}`, { provider, cause, detail: why });
}
