import { BullModule } from '@nestjs/bullmq';
import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AuthModule } from '../auth/auth.module.js';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import { ProviderRegistry } from '../providers/provider-registry.js';
import { SyncModule } from '../sync/sync.module.js';
import { SYNC_QUEUE } from '../sync/sync.constants.js';
import { ConnectPageFilter } from './connect-page.filter.js';
import { ConnectSessionStore } from './connect-session.store.js';
import { ConnectSessionsController } from './connect-sessions.controller.js';
import { ConnectUiController } from './connect-ui.controller.js';
import { ConnectUiHeaders } from './connect-ui.http.js';
import { ConnectViewService } from './connect-view.service.js';

/**
 * The Connect UI (docs/connect-ui.md): POST /v1/connect-sessions for PDeck's backend and the
 * pages under /connect for its users. HTTP only: registered in processes that serve HTTP.
 */
@Module({
  imports: [AuthModule, SyncModule, BullModule.registerQueue({ name: SYNC_QUEUE })],
  controllers: [ConnectSessionsController, ConnectUiController],
  providers: [
    ConnectSessionStore,
    ConnectViewService,
    ConnectPageFilter,
    {
      provide: ConnectUiHeaders,
      inject: [APP_CONFIG, ProviderRegistry],
      useFactory: (config: ResolvedAppConfig, registry: ProviderRegistry) =>
        new ConnectUiHeaders(config, registry),
    },
  ],
})
export class ConnectUiModule implements NestModule {
  constructor(private readonly headers: ConnectUiHeaders) {}

  /**
   * Every response of the pages (also their error pages, rendered by ConnectPageFilter) carries
   * the Connect UI's own security headers: set once here, after the app-wide helmet ones.
   */
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply((_req: Request, res: Response, next: () => void) => {
        this.headers.apply(res);
        next();
      })
      .forRoutes(ConnectUiController);
  }
}
