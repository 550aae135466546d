import { BullModule, InjectQueue } from '@nestjs/bullmq';
import {
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import { AuthModule } from '../auth/auth.module.js';
import { MetricsService } from '../core/metrics/metrics.service.js';
import { WebhookDelivery } from './entities/webhook-delivery.entity.js';
import { WebhookSubscription } from './entities/webhook-subscription.entity.js';
import { SubscriptionLifecycleService } from './subscription-lifecycle.service.js';
import { SubscriptionsService } from './subscriptions.service.js';
import { WebhookDeliveriesPurgeListener } from './webhook-deliveries-purge.listener.js';
import { DeliveryInbox } from './delivery-inbox.js';
import { WebhookDeliveriesService } from './webhook-deliveries.service.js';
import { WebhookJobs } from './webhook-jobs.service.js';
import { keepUnparsableWebhookBodies } from './webhook-raw-body.js';
import { WebhookReceiverService } from './webhook-receiver.service.js';
import { WebhookSubscriptionsStore } from './webhook-subscriptions.store.js';
import { WebhooksController } from './webhooks.controller.js';
import {
  CLOCK,
  WEBHOOK_SUBSCRIPTIONS_QUEUE,
  WEBHOOKS_PATH,
  WEBHOOKS_QUEUE,
} from './webhooks.constants.js';

/**
 * Webhooks, receiving side (every process): the verified receiver that stores each delivery
 * before acknowledging it, the delivery and subscription stores, and the subscription lifecycle
 * driven by connection events. Processing, sweeping and renewals live in WebhooksWorkerModule.
 */
@Module({
  imports: [
    BullModule.registerQueue({ name: WEBHOOKS_QUEUE }, { name: WEBHOOK_SUBSCRIPTIONS_QUEUE }),
    TypeOrmModule.forFeature([WebhookDelivery, WebhookSubscription]),
    AuthModule,
  ],
  controllers: [WebhooksController],
  providers: [
    // A fresh object per app, so a test can move one app's time without touching another's.
    { provide: CLOCK, useFactory: () => ({ now: () => new Date() }) },
    WebhookDeliveriesService,
    WebhookDeliveriesPurgeListener,
    WebhookSubscriptionsStore,
    WebhookJobs,
    DeliveryInbox,
    WebhookReceiverService,
    SubscriptionLifecycleService,
    SubscriptionsService,
  ],
  exports: [
    CLOCK,
    WebhookDeliveriesService,
    WebhookSubscriptionsStore,
    WebhookJobs,
    SubscriptionLifecycleService,
    SubscriptionsService,
  ],
})
export class WebhooksModule implements NestModule, OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @InjectQueue(WEBHOOKS_QUEUE) private readonly deliveries: Queue,
    @InjectQueue(WEBHOOK_SUBSCRIPTIONS_QUEUE) private readonly subscriptions: Queue,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.metrics.trackQueue(this.deliveries);
    this.metrics.trackQueue(this.subscriptions);
  }

  /**
   * Runs after the app's body parsers were installed and before any route: the one place where an
   * Express error handler can hand a parser's rejection back to the webhook route.
   */
  configure(_consumer: MiddlewareConsumer): void {
    this.adapterHost.httpAdapter?.use(WEBHOOKS_PATH, keepUnparsableWebhookBodies);
  }
}
