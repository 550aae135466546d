import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AdminModule } from './admin/admin.module.js';
import { ENTITIES } from './app.entities.js';
import { AuthWorkerModule } from './auth/auth-worker.module.js';
import { AuthModule } from './auth/auth.module.js';
import type { ResolvedAppConfig } from './core/config/app-config.js';
import { ConnectionHealthWorkerModule } from './connection-health/connection-health-worker.module.js';
import { ConnectionHealthModule } from './connection-health/connection-health.module.js';
import { ConnectUiModule } from './connect-ui/connect-ui.module.js';
import { CoreModule } from './core/core.module.js';
import { HealthModule } from './core/health/health.module.js';
import { InternalApiGuard } from './core/security/internal-api.guard.js';
import { EventsWorkerModule } from './events/events-worker.module.js';
import { EventsModule } from './events/events.module.js';
import { ItemsModule } from './items/items.module.js';
import { LinksWorkerModule } from './links/links-worker.module.js';
import { LinksModule } from './links/links.module.js';
import { OccurrencesModule } from './occurrences/occurrences.module.js';
import type { IntegrationProvider, IntegrationPlugin } from '@pdeck/integration-sdk';
import { ProvidersModule } from './providers/providers.module.js';
import { SyncWorkerModule } from './sync/sync-worker.module.js';
import { SyncModule } from './sync/sync.module.js';
import { WebhooksWorkerModule } from './webhooks/webhooks-worker.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

export interface AppModuleOptions {
  /** Integrations to register; defaults to every shipped one (tests pass their own). */
  integrations?: Type<IntegrationProvider>[];
  /** Plugins loaded from INTEGRATION_PLUGINS, registered beside `integrations`. */
  plugins?: readonly IntegrationPlugin[];
}

/**
 * The feature modules are static and imported normally, so a missing dependency fails at
 * startup. ROLE only decides whether this process also consumes the queues: the worker modules
 * hold nothing but processors, sweepers and the services only they use.
 */
@Module({})
export class AppModule {
  static forRoot(config: ResolvedAppConfig, options: AppModuleOptions = {}): DynamicModule {
    const workers =
      config.role === 'api'
        ? []
        : [
            AuthWorkerModule,
            EventsWorkerModule,
            SyncWorkerModule,
            WebhooksWorkerModule,
            ConnectionHealthWorkerModule,
            LinksWorkerModule,
          ];
    // Pages and routes for people's browsers: only in processes that serve HTTP.
    const http = config.role === 'worker' ? [] : [ConnectUiModule, AdminModule];
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config, ENTITIES),
        ProvidersModule.forRoot(options.integrations, options.plugins),
        HealthModule,
        ItemsModule,
        OccurrencesModule,
        AuthModule,
        EventsModule,
        SyncModule,
        WebhooksModule,
        ConnectionHealthModule,
        LinksModule,
        ...http,
        ...workers,
      ],
      providers: [{ provide: APP_GUARD, useClass: InternalApiGuard }],
    };
  }
}
