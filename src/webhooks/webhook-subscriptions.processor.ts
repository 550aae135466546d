import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import { SubscriptionLifecycleService } from './subscription-lifecycle.service.js';
import { SubscriptionsService } from './subscriptions.service.js';
import {
  SUBSCRIPTION_JOB,
  type SubscriptionJobData,
  WEBHOOK_SUBSCRIPTIONS_QUEUE,
} from './webhooks.constants.js';

/** Runs subscribe and renewal jobs, and installs the renewal scheduler (worker role only). */
@Processor(WEBHOOK_SUBSCRIPTIONS_QUEUE)
export class WebhookSubscriptionsProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger('WebhookSubscriptions');

  constructor(
    private readonly subscriptions: SubscriptionsService,
    private readonly lifecycle: SubscriptionLifecycleService,
  ) {
    super();
  }

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.subscriptions.scheduleRenewals();
    } catch (error) {
      // Redis away at boot: renewals wait for the next start; subscriptions stay valid meanwhile.
      this.logger.error({
        msg: 'could not install the webhook renewal scheduler',
        error: (error as Error).message,
      });
    }
  }

  async process(job: Job<SubscriptionJobData>): Promise<number | void> {
    switch (job.name) {
      case SUBSCRIPTION_JOB.subscribe:
        return this.lifecycle.subscribeConnection(job.data.connectionId!);
      case SUBSCRIPTION_JOB.renewDue:
        return this.subscriptions.queueDueRenewals();
      case SUBSCRIPTION_JOB.renew:
        return this.lifecycle.renew(job.data.subscriptionId!, job.data.replace === true);
      default:
        this.logger.warn({
          msg: 'unknown webhook subscription job',
          jobId: job.id,
          name: job.name,
        });
    }
  }
}
