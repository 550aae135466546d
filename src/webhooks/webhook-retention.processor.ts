import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { MetricsService } from '../core/metrics/metrics.service.js';
import { withQueueTimeout } from '../core/queue/queue-timeout.js';
import { RETENTION_EVERY_MS, RETENTION_JOB_OPTIONS } from '../core/queue/retention-schedule.js';
import {
  type WebhookRetentionResult,
  WebhookRetentionService,
} from './webhook-retention.service.js';

export const WEBHOOKS_RETENTION_QUEUE = 'webhooks-retention';
/** One scheduler for the whole deployment: every worker upserts the same id. */
export const WEBHOOKS_RETENTION_SCHEDULER_ID = 'retention-webhook-deliveries';

/**
 * Runs the webhook_deliveries retention pass hourly (worker role only). A queue of its own, so the
 * delivery processor stays a plain hot path and a long first pass never holds a delivery slot.
 */
@Processor(WEBHOOKS_RETENTION_QUEUE)
export class WebhookRetentionProcessor
  extends WorkerHost
  implements OnModuleInit, OnApplicationBootstrap
{
  private readonly logger = new Logger('WebhookRetention');

  constructor(
    private readonly retention: WebhookRetentionService,
    @InjectQueue(WEBHOOKS_RETENTION_QUEUE) private readonly queue: Queue,
    private readonly metrics: MetricsService,
  ) {
    super();
  }

  onModuleInit(): void {
    this.metrics.trackQueue(this.queue);
  }

  /** Idempotent (upsert by id): every worker installs it at startup, one scheduler remains. */
  async onApplicationBootstrap(): Promise<void> {
    try {
      await withQueueTimeout(
        this.queue.upsertJobScheduler(
          WEBHOOKS_RETENTION_SCHEDULER_ID,
          { every: RETENTION_EVERY_MS },
          { name: 'prune', data: {}, opts: RETENTION_JOB_OPTIONS },
        ),
        5_000,
      );
    } catch (error) {
      // Redis away at boot: another worker or the next start installs it; nothing is urgent.
      this.logger.error({
        msg: 'could not install the webhook retention scheduler',
        error: (error as Error).message,
      });
    }
  }

  process(): Promise<WebhookRetentionResult> {
    return this.retention.run();
  }
}
