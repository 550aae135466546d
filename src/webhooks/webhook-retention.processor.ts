import { InjectQueue, Processor } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { MetricsService } from '../core/metrics/metrics.service.js';
import { RetentionJobHost } from '../core/queue/retention-job.host.js';
import {
  type WebhookRetentionResult,
  WebhookRetentionService,
} from './webhook-retention.service.js';

export const WEBHOOKS_RETENTION_QUEUE = 'webhooks-retention';
export const WEBHOOKS_RETENTION_SCHEDULER_ID = 'retention-webhook-deliveries';

/** Strips and deletes old webhook_deliveries hourly, on a queue of its own. */
@Processor(WEBHOOKS_RETENTION_QUEUE)
export class WebhookRetentionProcessor extends RetentionJobHost<WebhookRetentionResult> {
  constructor(
    private readonly retention: WebhookRetentionService,
    @InjectQueue(WEBHOOKS_RETENTION_QUEUE) queue: Queue,
    metrics: MetricsService,
  ) {
    super(queue, metrics, WEBHOOKS_RETENTION_SCHEDULER_ID);
  }

  protected pass(): Promise<WebhookRetentionResult> {
    return this.retention.run();
  }
}
