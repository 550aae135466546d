import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { EventsModule } from '../events/events.module.js';
import { ItemsModule } from '../items/items.module.js';
import { SyncModule } from '../sync/sync.module.js';
import { WebhookEventsService } from './webhook-events.service.js';
import {
  WEBHOOKS_RETENTION_QUEUE,
  WebhookRetentionProcessor,
} from './webhook-retention.processor.js';
import { WebhookRetentionService } from './webhook-retention.service.js';
import { WebhookSubscriptionsProcessor } from './webhook-subscriptions.processor.js';
import { WebhookSweeper } from './webhook-sweeper.service.js';
import { WebhookProcessor } from './webhook.processor.js';
import { WebhooksModule } from './webhooks.module.js';

/**
 * Webhooks, working side (ROLE=worker or all): processes stored deliveries into items or
 * incremental syncs, sweeps deliveries whose job was lost, subscribes and renews, and prunes
 * old deliveries (hourly retention job).
 */
@Module({
  imports: [
    BullModule.registerQueue({ name: WEBHOOKS_RETENTION_QUEUE }),
    WebhooksModule,
    AuthModule,
    ItemsModule,
    SyncModule,
    EventsModule,
  ],
  providers: [
    WebhookEventsService,
    WebhookProcessor,
    WebhookSweeper,
    WebhookSubscriptionsProcessor,
    WebhookRetentionService,
    WebhookRetentionProcessor,
  ],
})
export class WebhooksWorkerModule {}
