import { renderErrorPage } from './consent-page.js';
import type { OAuthClient } from './oauth2-tokens.js';
import { html, type Reply } from './router.js';

/** A validated authorize request, waiting for the user's decision. */
export interface PendingAuthorization {
  clientId: string;
  clientName: string;
  redirectUri: string;
  scopes: string[];
  state?: string;
  challenge?: string;
  challengeMethod?: 'plain' | 'S256';
  offline: boolean;
  promptConsent: boolean;
  promptNone: boolean;
  includeGranted: boolean;
  loginHint?: string;
}

/**
 * Validates authorize parameters. Errors before the redirect URI is trusted are shown as an
 * error page (never redirected), as Google does for an unknown client or unregistered URI.
 */
export function parseAuthorizeRequest(
  query: URLSearchParams,
  clients: OAuthClient[],
  providerName: string,
): PendingAuthorization | Reply {
  const fail = (status: number, error: string, detail: string): Reply =>
    html(status, renderErrorPage(providerName, status, error, detail));
  const client = clients.find((c) => c.clientId === query.get('client_id'));
  if (!client) return fail(401, 'invalid_client', 'The OAuth client was not found.');
  const redirectUri = query.get('redirect_uri') ?? '';
  if (!redirectUri || (client.redirectUris && !client.redirectUris.includes(redirectUri))) {
    const detail = `redirect_uri '${redirectUri}' is not registered for this client.`;
    return fail(400, 'redirect_uri_mismatch', detail);
  }
  const scopes = (query.get('scope') ?? '').split(' ').filter(Boolean);
  const challenge = query.get('code_challenge') ?? undefined;
  const method = query.get('code_challenge_method') ?? (challenge ? 'plain' : undefined);
  if (query.get('response_type') !== 'code') {
    return fail(400, 'invalid_request', 'Invalid response_type: only "code" is supported.');
  }
  if (scopes.length === 0) return fail(400, 'invalid_request', 'Missing required parameter: scope');
  if (method !== undefined && method !== 'plain' && method !== 'S256') {
    return fail(400, 'invalid_request', `Invalid code_challenge_method: ${method}`);
  }
  const prompts = (query.get('prompt') ?? '').split(' ');
  return {
    clientId: client.clientId,
    clientName: client.name,
    redirectUri,
    scopes,
    state: query.get('state') ?? undefined,
    challenge,
    challengeMethod: method,
    offline: query.get('access_type') === 'offline',
    promptConsent: prompts.includes('consent'),
    promptNone: prompts.includes('none'),
    includeGranted: query.get('include_granted_scopes') === 'true',
    loginHint: query.get('login_hint') ?? undefined,
  };
}

/** A string field of a parsed form or JSON body. */
export function field(body: unknown, name: string): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

export function withParams(base: string, params: Record<string, string | undefined>): string {
  const url = new URL(base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}
