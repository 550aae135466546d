import { Injectable } from '@nestjs/common';
import {
  ProviderError,
  isProviderError,
  type AccountIdentity,
  type IntegrationProvider,
  type ProviderCatalogEntry,
  type ProviderContext,
  type SyncPage,
  type SyncResource,
} from '@pdeck/integration-sdk';

/** The made-up "real" origin of the test provider; tests map it to a loopback server. */
export const TEST_OAUTH_ORIGIN = 'https://auth.test-provider.example';
export const TEST_OAUTH_ID = 'test-oauth';

/**
 * An OAuth 2.0 integration whose authorization server is oidc-provider on loopback (via
 * PROVIDER_ORIGINS). It syncs nothing; it exists to drive the connect and token machinery.
 */
@Injectable()
export class TestOAuthProvider implements IntegrationProvider {
  readonly catalog: ProviderCatalogEntry = {
    id: TEST_OAUTH_ID,
    displayName: 'Test OAuth',
    itemKinds: ['task'],
    auth: {
      scheme: 'oauth2',
      authorizeUrl: `${TEST_OAUTH_ORIGIN}/auth`,
      tokenUrl: `${TEST_OAUTH_ORIGIN}/token`,
      revokeUrl: `${TEST_OAUTH_ORIGIN}/token/revocation`,
      scopes: ['openid', 'email', 'tasks.read'],
      scopeSeparator: ' ',
      pkce: true,
      authorizeParams: { prompt: 'consent' },
      tokenRequestEncoding: 'form',
      clientAuth: 'body',
      rotatesRefreshTokens: true,
    },
    credentials: { clientId: 'TEST_CLIENT_ID', clientSecret: 'TEST_CLIENT_SECRET' },
    sync: { defaultIntervalMinutes: 15 },
    rateBudgets: [],
  };

  async fetchIdentity(ctx: ProviderContext): Promise<AccountIdentity> {
    const { accessToken } = await ctx.credentials();
    const res = await ctx.http.request<{ sub: string; email?: string }>({
      url: `${TEST_OAUTH_ORIGIN}/me`,
      headers: { authorization: `Bearer ${accessToken}` },
      operation: 'userinfo',
    });
    return { accountId: res.data.sub, label: res.data.email ?? res.data.sub };
  }

  async listResources(): Promise<SyncResource[]> {
    return [];
  }

  async *sync(): AsyncIterable<SyncPage> {
    // Nothing to sync: this provider only exercises auth.
  }

  mapError(error: unknown): ProviderError {
    if (isProviderError(error)) return error;
    return new ProviderError('UNKNOWN', 'Test provider call failed', {
      cause: error,
      provider: TEST_OAUTH_ID,
    });
  }
}
