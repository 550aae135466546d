import { BullModule } from '@nestjs/bullmq';
import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Express } from 'express';
import { AuthModule } from '../auth/auth.module.js';
import { ConnectionHealthModule } from '../connection-health/connection-health.module.js';
import { PDECK_EVENTS_QUEUE } from '../events/events.constants.js';
import { SYNC_RETENTION_QUEUE } from '../sync/sync-runs-retention.processor.js';
import { SyncModule } from '../sync/sync.module.js';
import { SYNC_QUEUE } from '../sync/sync.constants.js';
import { WEBHOOKS_RETENTION_QUEUE } from '../webhooks/webhook-retention.processor.js';
import { WEBHOOK_SUBSCRIPTIONS_QUEUE, WEBHOOKS_QUEUE } from '../webhooks/webhooks.constants.js';
import { AdminAuditService } from './admin-audit.service.js';
import { AdminDataService } from './admin-data.service.js';
import { HEALTH_QUEUE } from '../connection-health/health-evaluation.processor.js';
import { QUEUES_PATH, queueDashboard } from './admin-queues.js';
import { AdminSessionStore } from './admin-session.store.js';
import { AdminController } from './admin.controller.js';

/**
 * The operator console under /admin (docs/operations.md, "Operator console") and the queue
 * dashboard under /admin/queues. HTTP only: registered in processes that serve HTTP.
 */
@Module({
  imports: [
    AuthModule,
    SyncModule,
    // Health, issues and pauses: shown on every page, paused and muted from the detail pages.
    ConnectionHealthModule,
    // Every queue of the service, also those only workers register (retention): the overview
    // counts them and the dashboard shows them from an api process too.
    BullModule.registerQueue(
      { name: SYNC_QUEUE },
      { name: WEBHOOKS_QUEUE },
      { name: WEBHOOK_SUBSCRIPTIONS_QUEUE },
      { name: PDECK_EVENTS_QUEUE },
      { name: SYNC_RETENTION_QUEUE },
      { name: WEBHOOKS_RETENTION_QUEUE },
      { name: HEALTH_QUEUE },
    ),
  ],
  controllers: [AdminController],
  providers: [AdminSessionStore, AdminDataService, AdminAuditService],
})
export class AdminModule implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly data: AdminDataService,
    private readonly sessions: AdminSessionStore,
  ) {}

  /**
   * Mounted on Express directly (Bull Board brings its own Express router); Nest registers
   * its 404 handler after this hook, so the dashboard's routes are reached.
   */
  onModuleInit(): void {
    const app = this.adapterHost.httpAdapter?.getInstance<Express>();
    if (!app) return;
    app.use(QUEUES_PATH, ...queueDashboard(this.data.allQueues(), this.sessions));
  }
}
