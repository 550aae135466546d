import { type DynamicModule, Global, Module, type Type } from '@nestjs/common';
import { ConfigError } from '../core/config/load-config.js';
import { MetricsRequestObserver } from './http/metrics-request-observer.js';
import { ProviderHttpClient } from './http/provider-http-client.js';
import { ProviderRequestObserver } from './http/request-observer.js';
import {
  INTEGRATION_PROVIDERS,
  type IntegrationClass,
  type IntegrationProvider,
  type IntegrationPlugin,
} from '@pdeck/integration-sdk';
import { INTEGRATIONS } from './integrations.js';
import { ProviderContextFactory } from './provider-context.factory.js';
import { ProviderRegistry } from './provider-registry.js';
import { RateBudgetService } from './rate-budget/rate-budget.service.js';
import { RateBudgetGate, RateGate } from './rate-budget/rate-gate.js';

/**
 * The integration framework: registers each integration class under the one typed
 * multi-provider token, and provides what every provider call goes through (the HTTP client
 * with its request observer, the shared rate budgets, the per-call context factory).
 * Adding an integration = one folder + one line in integrations.ts, or a plugin listed in
 * INTEGRATION_PLUGINS (loaded and checked before the application is created: plugin-loader.ts),
 * registered under the same token with the modules it imports.
 */
@Global()
@Module({})
export class ProvidersModule {
  static forRoot(
    builtIns: Type<IntegrationProvider>[] = INTEGRATIONS,
    plugins: readonly IntegrationPlugin[] = [],
  ): DynamicModule {
    const integrations = [...builtIns, ...plugins.map((p) => p.provider)];
    return {
      module: ProvidersModule,
      imports: plugins.flatMap((p) => p.imports ?? []),
      providers: [
        ...integrations,
        {
          provide: INTEGRATION_PROVIDERS,
          inject: integrations,
          useFactory: (...instances: IntegrationProvider[]) =>
            instances.map((instance, i) => withCatalog(instance, integrations[i])),
        },
        ProviderRegistry,
        { provide: ProviderRequestObserver, useClass: MetricsRequestObserver },
        ProviderHttpClient,
        RateBudgetService,
        { provide: RateGate, useClass: RateBudgetGate },
        ProviderContextFactory,
      ],
      exports: [ProviderRegistry, ProviderHttpClient, RateBudgetService, ProviderContextFactory],
    };
  }
}

/**
 * The registry reads each instance's catalog. A class that declares it only as a static (a
 * plugin's may) gets the static one on its instance; a class with neither stops startup with one
 * line instead of a TypeError deep in the registry.
 */
export function withCatalog(
  instance: IntegrationProvider,
  type: Type<IntegrationProvider>,
): IntegrationProvider {
  if (instance.catalog) return instance;
  const catalog = (type as Partial<IntegrationClass>).catalog;
  if (!catalog) {
    throw new ConfigError(`Invalid integration ${type.name}: it has no catalog`);
  }
  Object.defineProperty(instance, 'catalog', { value: catalog, enumerable: true });
  return instance;
}
