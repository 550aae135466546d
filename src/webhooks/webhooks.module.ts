import { BullModule } from '@nestjs/bullmq';
import {
  type DynamicModule,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type Provider,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module.js';
import { ItemsModule } from '../items/items.module.js';
import { WebhookDelivery } from './entities/webhook-delivery.entity.js';
import { WebhookSubscription } from './entities/webhook-subscription.entity.js';
import { SubscriptionLifecycleService } from './subscription-lifecycle.service.js';
import { SubscriptionsService } from './subscriptions.service.js';
import { WebhookDeliveriesService } from './webhook-deliveries.service.js';
import { WebhookEventsService } from './webhook-events.service.js';
import { WebhookJobs } from './webhook-jobs.service.js';
import { keepUnparsableWebhookBodies } from './webhook-raw-body.js';
import { WebhookReceiverService } from './webhook-receiver.service.js';
import { WebhookSubscriptionsProcessor } from './webhook-subscriptions.processor.js';
import { WebhookSubscriptionsStore } from './webhook-subscriptions.store.js';
import { WebhookSweeper } from './webhook-sweeper.service.js';
import { WebhookProcessor } from './webhook.processor.js';
import { WebhooksController } from './webhooks.controller.js';
import {
  CLOCK,
  WEBHOOK_SUBSCRIPTIONS_QUEUE,
  WEBHOOKS_PATH,
  WEBHOOKS_QUEUE,
} from './webhooks.constants.js';

export interface WebhooksModuleOptions {
  /** Process deliveries, sweep, subscribe and renew in this process (ROLE=all|worker). */
  worker: boolean;
}

/**
 * Receiver (every HTTP process), processors, sweeper and renewal scheduler (workers only).
 * Needs the global CoreModule and ProvidersModule, and, in workers, the SyncModule and
 * EventsModule the app root imports (see WebhookEventsService for why they are not imported here).
 */
@Module({})
export class WebhooksModule implements NestModule {
  static forRoot(options: WebhooksModuleOptions): DynamicModule {
    const providers: Provider[] = [
      // A fresh object per app, so a test can move one app's time without touching another's.
      { provide: CLOCK, useFactory: () => ({ now: () => new Date() }) },
      WebhookDeliveriesService,
      WebhookSubscriptionsStore,
      WebhookJobs,
      WebhookReceiverService,
      SubscriptionLifecycleService,
      SubscriptionsService,
    ];
    if (options.worker) {
      providers.push(
        WebhookEventsService,
        WebhookProcessor,
        WebhookSweeper,
        WebhookSubscriptionsProcessor,
      );
    }
    return {
      module: WebhooksModule,
      imports: [
        BullModule.registerQueue({ name: WEBHOOKS_QUEUE }, { name: WEBHOOK_SUBSCRIPTIONS_QUEUE }),
        TypeOrmModule.forFeature([WebhookDelivery, WebhookSubscription]),
        AuthModule,
        ItemsModule,
      ],
      controllers: [WebhooksController],
      providers,
    };
  }

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /**
   * Runs after the app's body parsers were installed and before any route: the one place where an
   * Express error handler can hand a parser's rejection back to the webhook route.
   */
  configure(_consumer: MiddlewareConsumer): void {
    this.adapterHost.httpAdapter?.use(WEBHOOKS_PATH, keepUnparsableWebhookBodies);
  }
}
