import { Injectable } from '@nestjs/common';
import type { ProviderCredentials } from '../core/config/app-config.js';
import { MetricsService } from '../core/metrics/metrics.service.js';
import { ProviderHttpClient } from '../providers/http/provider-http-client.js';
import {
  ProviderError,
  type ConnectionCredentials,
  type OAuth2AuthDescriptor,
  type OAuthToken,
} from '@pdeck/integration-sdk';
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

  /**
   * Refreshes one token of the connection: the primary one (`name` undefined) or a linked one
   * (Slack's `user` token), each with its own refresh token. Returns the credentials with that
   * token replaced; the others are untouched.
   */
  async refresh(
    connection: Connection,
    current: ConnectionCredentials,
    name?: string,
  ): Promise<ConnectionCredentials> {
    const provider = connection.provider;
    const token = name === undefined ? current : current.linked?.[name];
    if (!token?.refreshToken) {
      throw new ProviderError('AUTH_REVOKED', `${provider}: no refresh token stored`, {
        provider,
        detail: 'no_refresh_token',
      });
    }
    const descriptor = this.descriptorOf(provider);
    let answer: TokenSet;
    try {
      answer = await requestTokens(this.http, {
        provider,
        // A refresh answers the token it renews at the top level, linked ones included.
        descriptor: { ...descriptor, linkedTokens: undefined },
        credentials: this.clientOf(provider),
        grant: { grant_type: 'refresh_token', refresh_token: token.refreshToken },
        operation: 'token.refresh',
      });
    } catch (error) {
      const failure = classifyRefreshError(provider, error, descriptor.deadGrantErrors);
      const outcome = failure.code === 'AUTH_REVOKED' ? 'dead_grant' : 'failed';
      this.metrics.tokenRefreshes.inc({ provider, outcome });
      throw failure;
    }
    this.metrics.tokenRefreshes.inc({ provider, outcome: 'succeeded' });
    const renewed: OAuthToken = {
      accessToken: answer.accessToken,
      // Google does not rotate and omits refresh_token: the old one stays valid and is kept.
      refreshToken: answer.refreshToken || token.refreshToken,
      // Our receive time + expires_in (requestTokens computes it); none means "does not expire".
      expiresAt: answer.expiresAt,
      scope: answer.scope ?? token.scope,
    };
    if (name === undefined) return { ...current, ...renewed };
    return { ...current, linked: { ...current.linked, [name]: renewed } };
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
