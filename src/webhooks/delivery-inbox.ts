import { Injectable } from '@nestjs/common';
import { type NewDelivery, WebhookDeliveriesService } from './webhook-deliveries.service.js';
import { WebhookJobs } from './webhook-jobs.service.js';

/** Deliveries per group commit; more wait for the next group. */
export const INBOX_BATCH_LIMIT = 100;

/** Which step failed: the insert (nothing stored) or the enqueue (stored, the sweeper's job). */
export class InboxError extends Error {
  constructor(
    readonly step: 'store' | 'queue',
    cause: unknown,
  ) {
    super(`${step}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

interface Waiting {
  delivery: NewDelivery;
  resolve: (rowId: string | null) => void;
  reject: (error: InboxError) => void;
}

/**
 * Group commit of verified deliveries: those that arrive while a commit is under way (under load,
 * dozens) are stored by the next one statement and queued by one `addBulk`, instead of one
 * INSERT and one job add each. Every caller still answers only after its own row is committed
 * and its job queued, so a 200 keeps meaning "stored durably"; a duplicate resolves to null. An
 * idle receiver commits a lone delivery at once: nothing waits for a batch to fill.
 */
@Injectable()
export class DeliveryInbox {
  private queue: Waiting[] = [];
  private running = false;

  constructor(
    private readonly deliveries: WebhookDeliveriesService,
    private readonly jobs: WebhookJobs,
  ) {}

  /** The new row's id, or null when (provider, delivery id) was already stored. */
  accept(delivery: NewDelivery): Promise<string | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ delivery, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, INBOX_BATCH_LIMIT);
        await this.commit(batch);
      }
    } finally {
      this.running = false;
    }
  }

  private async commit(batch: Waiting[]): Promise<void> {
    let rowIds: Array<string | null>;
    try {
      rowIds = await this.deliveries.insertMany(batch.map((w) => w.delivery));
    } catch (error) {
      for (const w of batch) w.reject(new InboxError('store', error));
      return;
    }
    const stored = rowIds.filter((id): id is string => id !== null);
    try {
      if (stored.length > 0) await this.jobs.enqueueMany(stored);
    } catch (error) {
      batch.forEach((w, i) =>
        rowIds[i] === null ? w.resolve(null) : w.reject(new InboxError('queue', error)),
      );
      return;
    }
    batch.forEach((w, i) => w.resolve(rowIds[i]));
  }
}
