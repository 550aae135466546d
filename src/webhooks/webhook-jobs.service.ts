import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import {
  ENQUEUE_TIMEOUT_MS,
  PROCESS_ATTEMPTS,
  WEBHOOKS_QUEUE,
  type WebhookJobData,
} from './webhooks.constants.js';

export class EnqueueTimeoutError extends Error {
  override readonly name = 'EnqueueTimeoutError';
}

/**
 * Puts a stored delivery on the queue. The job id is the delivery row id, so adding the same
 * delivery again (sweeper, a late add that completes after a timeout) is a no-op while the job
 * is kept; completed jobs are kept a day for exactly that reason.
 */
@Injectable()
export class WebhookJobs {
  constructor(@InjectQueue(WEBHOOKS_QUEUE) private readonly queue: Queue<WebhookJobData>) {}

  async enqueue(rowId: string, timeoutMs = ENQUEUE_TIMEOUT_MS): Promise<void> {
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
    add.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EnqueueTimeoutError('Queue did not answer')), timeoutMs);
    });
    try {
      await Promise.race([add, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
