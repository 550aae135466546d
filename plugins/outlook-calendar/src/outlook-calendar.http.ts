import * as sdk from '@pdeck/integration-sdk';
import type { BoundProviderRequest as Request, ProviderContext } from '@pdeck/integration-sdk';
import { GRAPH_API, OUTLOOK_CALENDAR_ID as provider } from './outlook-calendar.catalog.js';

/**
 * Dead delta token (https://learn.microsoft.com/en-us/graph/errors), any casing (`SyncStateNotFound`
 * is observed); `syncStateInvalid` is UNCONFIRMED, included to be safe.
 */
const RESYNC = /^(syncstatenotfound|syncstateinvalid|resyncrequired)$/i;

/**
 * On `error.code`, never `message`; 410 is a dead delta link. Outlook's own codes are UNCONFIRMED,
 * so the status decides the rest (401 refresh, 403, 404); the framework handles 429/503.
 */
export const mapGraphError = sdk.createErrorMapper({
  provider,
  detail: (json) => sdk.jsonField(json, 'error', 'code'),
  goneMeansCursorInvalid: true,
  classify: (error, { message, ...opts }) =>
    error.status < 500 && RESYNC.test(opts.detail ?? '')
      ? new sdk.ProviderError('CURSOR_INVALID', message, opts)
      : undefined,
});

/** One Graph call with the bearer token, which only ever goes to Graph, whatever a link says. */
export async function graph<T>(ctx: ProviderContext, call: Request & { url: string }) {
  if (!call.url.startsWith(`${GRAPH_API}/`)) throw failure('refusing a link outside Graph');
  const expect: Request['expect'] = call.method === 'DELETE' ? 'none' : 'json';
  const request = (t: string) => ({ expect, ...call, headers: { ...call.headers, ...bearer(t) } });
  return sdk.authorizedCall<T>(ctx, request, mapGraphError);
}

const bearer = (t: string) => ({ accept: 'application/json', authorization: `Bearer ${t}` });

type Code = 'UNKNOWN' | 'CURSOR_INVALID';
export const failure = (why: string, code: Code = 'UNKNOWN', cause?: unknown) =>
  sdk.providerFailure(provider, code, why, why, { cause });
