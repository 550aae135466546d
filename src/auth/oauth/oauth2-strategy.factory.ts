import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { RedisClient } from '../../core/redis/redis-client.js';
import { APP_CONFIG, type ResolvedAppConfig } from '../../core/config/app-config.js';
import { OriginMap } from '../../providers/http/origin-map.js';
import { ProviderHttpClient } from '../../providers/http/provider-http-client.js';
import { REDIS } from '../../core/redis/redis.tokens.js';
import type { IntegrationProvider } from '@pdeck/integration-sdk';
import { ProviderContextFactory } from '../../providers/provider-context.factory.js';
import { ProviderRegistry } from '../../providers/provider-registry.js';
import { identifyGrant } from './grant-identity.js';
import { RedisOAuth2StateStore } from './oauth2-state.store.js';
import { ReturnToSeal } from './return-to-seal.js';
import { ProviderOAuth2Strategy } from './provider-oauth2.strategy.js';
import { requestTokens } from './token-exchange.js';

/** `$PUBLIC_URL/v1/oauth/<provider>/callback`: one path per provider (mix-up defence). */
export function callbackUrlFor(publicUrl: string, provider: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/v1/oauth/${encodeURIComponent(provider)}/callback`;
}

/**
 * One passport-oauth2 strategy per enabled OAuth 2.0 provider, owned by this app instance
 * rather than passport's process-global registry, so several apps in one process (tests, the
 * demo) never see each other's client ids or callback URLs.
 */
@Injectable()
export class OAuth2StrategyFactory {
  private readonly strategies = new Map<string, ProviderOAuth2Strategy>();
  private readonly stores = new Map<string, RedisOAuth2StateStore>();
  private readonly origins: OriginMap;

  constructor(
    private readonly registry: ProviderRegistry,
    private readonly http: ProviderHttpClient,
    private readonly contexts: ProviderContextFactory,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly seal: ReturnToSeal,
  ) {
    this.origins = new OriginMap(config.providerOrigins ?? {});
    for (const provider of registry.enabled()) {
      if (provider.catalog.auth.scheme === 'oauth2') this.build(provider);
    }
  }

  /** The strategy of an enabled OAuth 2.0 provider; 404 otherwise. */
  strategy(providerId: string): ProviderOAuth2Strategy {
    return this.entry(this.strategies, providerId);
  }

  /** The provider's state store, for callbacks that redeem a state without a code. */
  stateStore(providerId: string): RedisOAuth2StateStore {
    return this.entry(this.stores, providerId);
  }

  private entry<T>(map: Map<string, T>, providerId: string): T {
    this.registry.getEnabled(providerId);
    const found = map.get(providerId);
    if (!found) throw new NotFoundException(`Provider "${providerId}" does not use OAuth 2.0`);
    return found;
  }

  private build(provider: IntegrationProvider): void {
    const { id, auth: descriptor } = provider.catalog;
    if (descriptor.scheme !== 'oauth2') return;
    const credentials = this.registry.credentials(id);
    const store = new RedisOAuth2StateStore(this.redis, this.config.redisKeyPrefix, id, this.seal);
    const strategy = new ProviderOAuth2Strategy({
      provider: id,
      descriptor,
      credentials,
      callbackUrl: callbackUrlFor(this.config.publicUrl, id),
      // The browser follows this URL, so it needs the same sandbox redirection as our requests.
      authorizeUrl: this.origins.rewrite(descriptor.authorizeUrl).toString(),
      store,
      exchange: (grant) =>
        requestTokens(this.http, {
          provider: id,
          descriptor,
          credentials,
          grant,
          operation: 'oauth2.code_exchange',
        }),
      // The whole grant, linked tokens (Slack's user token) included.
      identify: (tokens) => identifyGrant(this.contexts, provider, tokens),
    });
    this.stores.set(id, store);
    this.strategies.set(id, strategy);
  }
}
