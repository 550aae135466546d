import { describe, expect, it } from 'vitest';
import type { ResolvedAppConfig } from '../core/config/app-config.js';
import type { IntegrationProvider } from '@pdeck/integration-sdk';
import { ProviderRegistry, ProviderRegistryError } from './provider-registry.js';

function fake(id: string): IntegrationProvider {
  return { catalog: { id } } as IntegrationProvider;
}

function config(credentials: Record<string, boolean>): ResolvedAppConfig {
  return {
    providerCredentials: Object.fromEntries(
      Object.entries(credentials).map(([id, on]) => [
        id,
        on ? { clientId: 'c', clientSecret: 's' } : undefined,
      ]),
    ),
  } as unknown as ResolvedAppConfig;
}

describe('ProviderRegistry', () => {
  it('refuses duplicate ids at construction', () => {
    expect(() => new ProviderRegistry([fake('alpha'), fake('alpha')], config({}))).toThrow(
      new ProviderRegistryError('Duplicate integration id "alpha"'),
    );
  });

  it('refuses malformed ids', () => {
    expect(() => new ProviderRegistry([fake('Bad Id')], config({}))).toThrow(
      /Invalid integration id/,
    );
  });

  it('refuses credentials configured for an integration nobody registered', () => {
    expect(() => new ProviderRegistry([fake('alpha')], config({ beta: true }))).toThrow(
      'Credentials are configured for unknown integration "beta"',
    );
  });

  it('knows which providers are enabled', () => {
    const registry = new ProviderRegistry(
      [fake('alpha'), fake('beta')],
      config({ alpha: true, beta: false }),
    );
    expect(registry.all().map((p) => p.catalog.id)).toEqual(['alpha', 'beta']);
    expect(registry.enabled().map((p) => p.catalog.id)).toEqual(['alpha']);
    expect(registry.getEnabled('alpha').catalog.id).toBe('alpha');
    expect(() => registry.getEnabled('beta')).toThrow(
      'Provider "beta" is not enabled on this service',
    );
    expect(() => registry.get('gamma')).toThrow('Unknown provider "gamma"');
    expect(registry.get('beta').catalog.id).toBe('beta');
  });
});
