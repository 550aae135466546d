import { Injectable } from '@nestjs/common';
import { GroupCommit, type Waiting } from '../core/runtime/group-commit.js';
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

/**
 * Group commit of verified deliveries (GroupCommit): those that arrive while a commit is under
 * way (under load, dozens) are stored by the next one statement and queued by one `addBulk`,
 * instead of one INSERT and one job add each. Every caller still answers only after its own row
 * is committed and its job queued, so a 200 keeps meaning "stored durably"; a duplicate resolves
 * to null. An idle receiver commits a lone delivery at once: nothing waits for a batch to fill.
 */
@Injectable()
export class DeliveryInbox {
  private readonly group = new GroupCommit<NewDelivery, string | null>(INBOX_BATCH_LIMIT, (batch) =>
    this.commit(batch),
  );

  constructor(
    private readonly deliveries: WebhookDeliveriesService,
    private readonly jobs: WebhookJobs,
  ) {}

  /** The new row's id, or null when (provider, delivery id) was already stored. */
  accept(delivery: NewDelivery): Promise<string | null> {
    return this.group.submit(delivery);
  }

  private async commit(batch: Waiting<NewDelivery, string | null>[]): Promise<void> {
    let rowIds: Array<string | null>;
    try {
      rowIds = await this.deliveries.insertMany(batch.map((w) => w.input));
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
