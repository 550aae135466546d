import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import { withQueueTimeout } from '../core/queue/queue-timeout.js';
import { PROCESS_ATTEMPTS, WEBHOOKS_QUEUE, type WebhookJobData } from './webhooks.constants.js';

/**
 * Finished jobs of the webhooks queue: bounded by count and age (Redis runs with noeviction).
 * Completed ones are kept a day so a late re-add of the same delivery stays a no-op; failed ones
 * a week for inspection (the row, not the job, is the record: it says `failed` and why).
 */
export const WEBHOOK_JOB_RETENTION = {
  removeOnComplete: { age: 86_400, count: 10_000 },
  removeOnFail: { age: 7 * 86_400, count: 10_000 },
} as const satisfies JobsOptions;

/** The job id is the delivery row id, so adding the same delivery twice is a no-op. */
function jobOptions(rowId: string): JobsOptions {
  return {
    jobId: rowId,
    attempts: PROCESS_ATTEMPTS,
    backoff: { type: 'exponential', delay: 2_000 },
    ...WEBHOOK_JOB_RETENTION,
  };
}

/** What requeue found in Redis for a delivery's job id, and so what it did. */
export type RequeueOutcome =
  /** No job: added one. */
  | 'added'
  /** A finished job (completed or failed) whose row still waits: replaced it by a fresh one. */
  | 'replaced'
  /** Waiting, delayed or running: left alone, it will reach the row. */
  | 'pending';

/**
 * Puts a stored delivery on the queue. The job id is the delivery row id, so adding the same
 * delivery again (a late add that completes after a timeout) is a no-op while the job is kept.
 */
@Injectable()
export class WebhookJobs {
  constructor(@InjectQueue(WEBHOOKS_QUEUE) private readonly queue: Queue<WebhookJobData>) {}

  async enqueue(rowId: string, timeoutMs?: number): Promise<void> {
    const add = this.queue.add('delivery', { deliveryId: rowId }, jobOptions(rowId));
    // The add may still settle after we gave up on it; that is harmless (same job id).
    await withQueueTimeout(add, timeoutMs);
  }

  /** Several stored deliveries in one round trip (the receiver's group commit). */
  async enqueueMany(rowIds: readonly string[]): Promise<void> {
    const jobs = rowIds.map((rowId) => ({
      name: 'delivery',
      data: { deliveryId: rowId },
      opts: jobOptions(rowId),
    }));
    await withQueueTimeout(this.queue.addBulk(jobs));
  }

  /**
   * For a row still `received` (the sweeper): makes sure a job will process it. A plain add is
   * not enough: BullMQ ignores an add whose job id is still kept as completed or failed (a day,
   * a week), and such a job will never touch the row again, for instance one that failed its last
   * attempt while the worker could not record the failure. Such a finished job is removed and a
   * fresh one added, built from the row id with the current options and a full set of attempts.
   * A job still waiting, delayed or running is left alone.
   */
  async requeue(rowId: string): Promise<RequeueOutcome> {
    const state = await withQueueTimeout(this.queue.getJobState(rowId));
    if (state !== 'unknown' && state !== 'completed' && state !== 'failed') return 'pending';
    // 0 when another sweeper's fresh job is already running (locked): that one covers the row.
    if (state !== 'unknown' && (await withQueueTimeout(this.queue.remove(rowId))) === 0)
      return 'pending';
    await this.enqueue(rowId);
    return state === 'unknown' ? 'added' : 'replaced';
  }
}
