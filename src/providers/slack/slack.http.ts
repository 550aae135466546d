import {
  authorizedCall,
  type ConnectionCredentials,
  type ProviderContext,
  type QueryValue,
  providerFailure,
} from '@pdeck/integration-sdk';
import { SLACK_ID, slackMethodUrl } from './slack.catalog.js';
import { mapSlackApiError, mapSlackHttpError } from './slack.errors.js';
import type { SlackResponse } from './slack.types.js';

/** The bot token (the primary one) or the installing user's token (linked as `user`). */
export type SlackTokenKind = 'bot' | 'user';

export interface SlackCall {
  /** The Web API method, e.g. 'conversations.history'; also the operation for budgets and logs. */
  method: string;
  token?: SlackTokenKind;
  params?: Record<string, QueryValue>;
}

/** The user token of a connection, if the grant has one. */
export function userToken(credentials: ConnectionCredentials): string | undefined {
  return credentials.linked?.user?.accessToken;
}

/**
 * One Web API call: GET with query arguments and the token as a Bearer header
 * (https://docs.slack.dev/apis/web-api/), through the engine's client (budgets per method and
 * workspace, timeouts, secret-free logs). An `ok: false` answer leaves here classified like an
 * HTTP failure, so callers see ProviderErrors only.
 */
export async function callSlack<T extends SlackResponse>(
  ctx: ProviderContext,
  call: SlackCall,
): Promise<T> {
  const kind = call.token ?? 'bot';
  const body = await authorizedCall<T>(
    ctx,
    (accessToken) => ({
      operation: call.method,
      method: 'GET',
      url: slackMethodUrl(call.method),
      query: call.params,
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
      expect: 'json',
    }),
    (error) => mapSlackHttpError(error, call.method),
    (credentials) => (kind === 'user' ? requireUserToken(credentials) : credentials.accessToken),
  );
  if (body?.ok !== true) throw mapSlackApiError(call.method, body);
  return body;
}

function requireUserToken(credentials: ConnectionCredentials): string {
  const token = userToken(credentials);
  if (!token) {
    throw providerFailure(SLACK_ID, 'PERMISSION', 'this grant has no user token', 'no_user_token');
  }
  return token;
}

/** The next page cursor, or undefined at the end (missing or empty `next_cursor`). */
export function nextCursor(body: SlackResponse): string | undefined {
  const next = body.response_metadata?.next_cursor;
  return typeof next === 'string' && next !== '' ? next : undefined;
}
