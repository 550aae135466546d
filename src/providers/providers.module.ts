import { type DynamicModule, Global, Module, type Type } from '@nestjs/common';
import { MetricsRequestObserver } from './http/metrics-request-observer.js';
import { ProviderHttpClient } from './http/provider-http-client.js';
import { ProviderRequestObserver } from './http/request-observer.js';
import { INTEGRATION_PROVIDERS, type IntegrationProvider } from './integration-provider.js';
import { INTEGRATIONS } from './integrations.js';
import type { IntegrationPlugin } from './plugin-contract.js';
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
          useFactory: (...instances: IntegrationProvider[]) => instances,
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
