import type { ProviderCredentials } from '../core/config/app-config.js';
import { type ProviderRequest, TOKEN_MAX_RESPONSE_BYTES } from '@pdeck/integration-sdk';
import { isProviderError, ProviderError, type OAuth2AuthDescriptor } from '@pdeck/integration-sdk';
import { basicAuth, TokenExchangeError } from './oauth/token-exchange.js';

/**
 * RFC 6749's code for a dead grant (Google 400, Atlassian 403): only the user can fix it by
 * reconnecting. Providers name their own extra codes in their descriptor (deadGrantErrors).
 * invalid_client / unauthorized_client are deliberately absent: they are our configuration, and
 * sending users to reconnect would not fix them.
 */
const DEAD_GRANT = 'invalid_grant';

/** Maps a failed refresh to the shared code set; outages and 429 arrive already classified. */
export function classifyRefreshError(
  provider: string,
  error: unknown,
  deadGrantErrors: readonly string[] = [],
): ProviderError {
  if (isProviderError(error)) return error;
  if (error instanceof TokenExchangeError) {
    const dead = error.oauthError === DEAD_GRANT || deadGrantErrors.includes(error.oauthError);
    const code = dead ? 'AUTH_REVOKED' : 'UNKNOWN';
    return new ProviderError(code, `${provider}: refresh refused (${error.oauthError})`, {
      provider,
      status: error.httpStatus,
      detail: error.oauthError,
      cause: error,
    });
  }
  return new ProviderError('UNKNOWN', `${provider}: token refresh failed`, {
    provider,
    cause: error,
  });
}

/**
 * An RFC 7009 revocation request: always a form post of `token` (+ hint), with the client
 * authenticated the way the descriptor says (body or HTTP Basic).
 */
export function revocationRequest(
  provider: string,
  descriptor: OAuth2AuthDescriptor & { revokeUrl: string },
  client: ProviderCredentials,
  token: { value: string; hint: 'refresh_token' | 'access_token' },
): ProviderRequest {
  const form: Record<string, string> = { token: token.value, token_type_hint: token.hint };
  const headers: Record<string, string> = {};
  if (descriptor.clientAuth === 'basic') {
    headers.authorization = basicAuth(client.clientId, client.clientSecret);
  } else {
    form.client_id = client.clientId;
    form.client_secret = client.clientSecret;
  }
  return {
    provider,
    method: 'POST',
    url: descriptor.revokeUrl,
    headers,
    form,
    expect: 'none',
    operation: 'token.revoke',
    // The token and the client secret are in the body: a redirect must not carry them on.
    redirect: 'error',
    maxResponseBytes: TOKEN_MAX_RESPONSE_BYTES,
  };
}
