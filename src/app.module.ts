import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { ResolvedAppConfig } from './core/config/app-config.js';
import { AuthModule } from './auth/auth.module.js';
import { CoreModule } from './core/core.module.js';
import { HealthModule } from './core/health/health.module.js';
import { InternalApiGuard } from './core/security/internal-api.guard.js';
import { ItemsModule } from './items/items.module.js';
import type { IntegrationProvider } from './providers/integration-provider.js';
import { ProvidersModule } from './providers/providers.module.js';
import { SyncModule } from './sync/sync.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

export interface AppModuleOptions {
  /** Integrations to register; defaults to every shipped one (tests pass their own). */
  integrations?: Type<IntegrationProvider>[];
}

@Module({})
export class AppModule {
  static forRoot(config: ResolvedAppConfig, options: AppModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config),
        ProvidersModule.forRoot(options.integrations),
        HealthModule,
        ItemsModule,
        AuthModule,
        SyncModule.forRoot({ worker: config.role !== 'api' }),
        WebhooksModule.forRoot({ worker: config.role !== 'api' }),
      ],
      providers: [{ provide: APP_GUARD, useClass: InternalApiGuard }],
    };
  }
}
