import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { withQueueTimeout } from '../core/queue/queue-timeout.js';
import { PROCESS_ATTEMPTS, WEBHOOKS_QUEUE, type WebhookJobData } from './webhooks.constants.js';

/**
 * Puts a stored delivery on the queue. The job id is the delivery row id, so adding the same
 * delivery again (sweeper, a late add that completes after a timeout) is a no-op while the job
 * is kept; completed jobs are kept a day for exactly that reason.
 */
@Injectable()
export class WebhookJobs {
  constructor(@InjectQueue(WEBHOOKS_QUEUE) private readonly queue: Queue<WebhookJobData>) {}

  async enqueue(rowId: string, timeoutMs?: number): Promise<void> {
    const add = this.queue.add(
      'delivery',
      { deliveryId: rowId },
      {
        jobId: rowId,
        attempts: PROCESS_ATTEMPTS,
        backoff: { type: 'exponential', delay: 2_000 },
        removeOnComplete: { age: 86_400, count: 10_000 },
        removeOnFail: { age: 7 * 86_400 },
      },
    );
    // The add may still settle after we gave up on it; that is harmless (same job id).
    await withQueueTimeout(add, timeoutMs);
  }
}
