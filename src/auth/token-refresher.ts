import { Injectable } from '@nestjs/common';
import type { ProviderCredentials } from '../core/config/app-config.js';
import { MetricsService } from '../core/metrics/metrics.service.js';
import { ProviderHttpClient } from '../providers/http/provider-http-client.js';
import { ProviderError } from '../providers/errors/provider-error.js';
import type {
  ConnectionCredentials,
  OAuth2AuthDescriptor,
} from '../providers/integration-provider.js';
import { ProviderRegistry } from '../providers/provider-registry.js';
import type { Connection } from './entities/connection.entity.js';
import { requestTokens, type TokenSet } from './oauth/token-exchange.js';
import { classifyRefreshError } from './token-endpoint.js';

/**
 * Sends exactly one refresh_token grant to the provider's token endpoint and returns the merged
 * credentials. It neither retries nor stores: TokenService decides who may call it and when,
 * because a second call with a rotated refresh token would revoke the whole grant.
 */
@Injectable()
export class TokenRefresher {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly http: ProviderHttpClient,
    private readonly metrics: MetricsService,
  ) {}

  async refresh(
    connection: Connection,
    current: ConnectionCredentials,
  ): Promise<ConnectionCredentials> {
    const provider = connection.provider;
    if (!current.refreshToken) {
      throw new ProviderError('AUTH_REVOKED', `${provider}: no refresh token stored`, {
        provider,
        detail: 'no_refresh_token',
      });
    }
    const descriptor = this.descriptorOf(provider);
    let token: TokenSet;
    try {
      token = await requestTokens(this.http, {
        provider,
        descriptor,
        credentials: this.clientOf(provider),
        grant: { grant_type: 'refresh_token', refresh_token: current.refreshToken },
        operation: 'token.refresh',
      });
    } catch (error) {
      const failure = classifyRefreshError(provider, error, descriptor.deadGrantErrors);
      const outcome = failure.code === 'AUTH_REVOKED' ? 'dead_grant' : 'failed';
      this.metrics.tokenRefreshes.inc({ provider, outcome });
      throw failure;
    }
    this.metrics.tokenRefreshes.inc({ provider, outcome: 'succeeded' });
    return {
      ...current,
      accessToken: token.accessToken,
      // Google does not rotate and omits refresh_token: the old one stays valid and is kept.
      refreshToken: token.refreshToken || current.refreshToken,
      // Our receive time + expires_in (requestTokens computes it); none means "does not expire".
      expiresAt: token.expiresAt,
    };
  }

  private descriptorOf(provider: string): OAuth2AuthDescriptor {
    const auth = this.registry.get(provider).catalog.auth;
    if (auth.scheme !== 'oauth2') {
      throw new ProviderError('UNKNOWN', `${provider}: ${auth.scheme} tokens cannot be refreshed`, {
        provider,
        detail: 'not_refreshable',
      });
    }
    return auth;
  }

  private clientOf(provider: string): ProviderCredentials {
    if (!this.registry.isEnabled(provider)) {
      throw new ProviderError('UNKNOWN', `${provider}: provider is not enabled on this service`, {
        provider,
        detail: 'provider_disabled',
      });
    }
    return this.registry.credentials(provider);
  }
}
