import type { QueryValue } from '../http/provider-http-client.js';
import type { ProviderContext } from '../integration-provider.js';
import { mapJiraError } from './jira.errors.js';

export interface JiraCall {
  /** Label for logs and metrics, e.g. 'search.jql'. */
  operation: string;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  query?: Record<string, QueryValue>;
  json?: unknown;
  expect?: 'json' | 'none';
  maxResponseBytes?: number;
}

/**
 * One authenticated call to api.atlassian.com. The token is read from the context on every call
 * (the framework refreshes it; a long sync outlives one token), and failures leave here already
 * classified by mapJiraError. A cancellation by the caller passes through untouched.
 */
export async function callJira<T>(ctx: ProviderContext, call: JiraCall): Promise<T> {
  const { accessToken } = await ctx.credentials();
  try {
    const res = await ctx.http.request<T>({
      operation: call.operation,
      method: call.method ?? 'GET',
      url: call.url,
      query: call.query,
      json: call.json,
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
      expect: call.expect ?? 'json',
      maxResponseBytes: call.maxResponseBytes,
    });
    return res.data;
  } catch (error) {
    if (ctx.signal?.aborted) throw error;
    throw mapJiraError(error);
  }
}
