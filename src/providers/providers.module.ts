import { type DynamicModule, Global, Module, type Type } from '@nestjs/common';
import { INTEGRATION_PROVIDERS, type IntegrationProvider } from './integration-provider.js';
import { INTEGRATIONS } from './integrations.js';
import { ProviderContextFactory } from './provider-context.factory.js';
import { ProviderRegistry } from './provider-registry.js';

/**
 * Registers each integration class and collects them under the one typed multi-provider token.
 * Adding an integration = one folder + one line in integrations.ts.
 */
@Global()
@Module({})
export class ProvidersModule {
  static forRoot(integrations: Type<IntegrationProvider>[] = INTEGRATIONS): DynamicModule {
    return {
      module: ProvidersModule,
      providers: [
        ...integrations,
        {
          provide: INTEGRATION_PROVIDERS,
          inject: integrations,
          useFactory: (...instances: IntegrationProvider[]) => instances,
        },
        ProviderRegistry,
        ProviderContextFactory,
      ],
      exports: [ProviderRegistry, ProviderContextFactory],
    };
  }
}
