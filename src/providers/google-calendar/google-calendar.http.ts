import type { QueryValue } from '../http/provider-http-client.js';
import type { ProviderContext } from '../integration-provider.js';
import { mapGoogleError } from './google-calendar.errors.js';

export interface GoogleCall {
  /** Label for logs and metrics, e.g. 'events.list'. */
  operation: string;
  method?: 'GET' | 'POST';
  url: string;
  query?: Record<string, QueryValue>;
  json?: unknown;
  expect?: 'json' | 'none';
  /** Response body cap; the client's 1 MiB default when unset (see PAGE_MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
}

/**
 * One authenticated Calendar API call. The token is read from the context on every call (the
 * framework refreshes it; a long sync outlives one token), and failures leave here already
 * classified, so a 410 is a CURSOR_INVALID ProviderError wherever it happens. A cancellation
 * by the caller passes through untouched: it is not a provider failure.
 */
export async function callGoogle<T>(ctx: ProviderContext, call: GoogleCall): Promise<T> {
  const { accessToken } = await ctx.credentials();
  try {
    const res = await ctx.http.request<T>({
      operation: call.operation,
      method: call.method ?? 'GET',
      url: call.url,
      query: call.query,
      json: call.json,
      headers: { authorization: `Bearer ${accessToken}` },
      expect: call.expect ?? 'json',
      maxResponseBytes: call.maxResponseBytes,
    });
    return res.data;
  } catch (error) {
    if (ctx.signal?.aborted) throw error;
    throw mapGoogleError(error);
  }
}

/** A path segment: calendar ids hold '@' and '#' (holiday calendars), so they are encoded. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}
