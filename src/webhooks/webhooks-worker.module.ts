import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { EventsModule } from '../events/events.module.js';
import { ItemsModule } from '../items/items.module.js';
import { SyncModule } from '../sync/sync.module.js';
import { WebhookEventsService } from './webhook-events.service.js';
import { WebhookSubscriptionsProcessor } from './webhook-subscriptions.processor.js';
import { WebhookSweeper } from './webhook-sweeper.service.js';
import { WebhookProcessor } from './webhook.processor.js';
import { WebhooksModule } from './webhooks.module.js';

/**
 * Webhooks, working side (ROLE=worker or all): processes stored deliveries into items or
 * incremental syncs, sweeps deliveries whose job was lost, subscribes and renews.
 */
@Module({
  imports: [WebhooksModule, AuthModule, ItemsModule, SyncModule, EventsModule],
  providers: [
    WebhookEventsService,
    WebhookProcessor,
    WebhookSweeper,
    WebhookSubscriptionsProcessor,
  ],
})
export class WebhooksWorkerModule {}
