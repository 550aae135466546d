import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import {
  APP_CONFIG,
  type ProviderCredentials,
  type ResolvedAppConfig,
} from '../core/config/app-config.js';
import {
  CATALOG_ID_PATTERN,
  INTEGRATION_PROVIDERS,
  type IntegrationProvider,
} from '@pdeck/integration-sdk';

export class ProviderRegistryError extends Error {
  override readonly name = 'ProviderRegistryError';
}

/**
 * The only door to integrations for Auth, Sync and Webhooks. Checks itself when constructed, so
 * a duplicate id, a malformed id, or credentials configured for an id nobody implements stops the
 * process at startup instead of surfacing as a 404 in production.
 */
@Injectable()
export class ProviderRegistry {
  private readonly byId = new Map<string, IntegrationProvider>();

  constructor(
    @Inject(INTEGRATION_PROVIDERS) providers: IntegrationProvider[],
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
  ) {
    for (const provider of providers) {
      const id = provider.catalog.id;
      if (!CATALOG_ID_PATTERN.test(id)) throw new ProviderRegistryError(`Invalid integration id "${id}"`);
      if (this.byId.has(id)) throw new ProviderRegistryError(`Duplicate integration id "${id}"`);
      this.byId.set(id, provider);
    }
    for (const [id, creds] of Object.entries(config.providerCredentials)) {
      if (creds && !this.byId.has(id)) {
        throw new ProviderRegistryError(
          `Credentials are configured for unknown integration "${id}"`,
        );
      }
    }
  }

  /** Every registered integration, enabled or not. */
  all(): IntegrationProvider[] {
    return [...this.byId.values()];
  }

  enabled(): IntegrationProvider[] {
    return this.all().filter((p) => this.isEnabled(p.catalog.id));
  }

  isEnabled(id: string): boolean {
    return this.byId.has(id) && Boolean(this.config.providerCredentials[id]);
  }

  /** A registered provider, or undefined: for callers that have a fallback. */
  find(id: string): IntegrationProvider | undefined {
    return this.byId.get(id);
  }

  /** A registered provider, enabled or not (disconnecting must work after disabling). */
  get(id: string): IntegrationProvider {
    const provider = this.byId.get(id);
    if (!provider) throw new NotFoundException(`Unknown provider "${id}"`);
    return provider;
  }

  /** An enabled provider, or a 404 that names the variables to set. */
  getEnabled(id: string): IntegrationProvider {
    const provider = this.get(id);
    if (!this.isEnabled(id))
      throw new NotFoundException(`Provider "${id}" is not enabled on this service`);
    return provider;
  }

  credentials(id: string): ProviderCredentials {
    const creds = this.config.providerCredentials[id];
    if (!creds) throw new NotFoundException(`Provider "${id}" is not enabled on this service`);
    return creds;
  }
}
