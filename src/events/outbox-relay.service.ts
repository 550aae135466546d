import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { QueueTimeoutError, withQueueTimeout } from '../core/queue/queue-timeout.js';
import { BackoffPoller } from '../core/runtime/backoff-poller.js';
import {
  OUTBOX_BATCH,
  OUTBOX_ENQUEUE_TIMEOUT_MS,
  OUTBOX_MAX_RETRY_MS,
  OUTBOX_POLL_MS,
  OUTBOX_RELAY_LOCK_ID,
} from './events.constants.js';
import { EventOutboxStore } from './event-outbox.store.js';
import { PdeckNotifier } from './pdeck-notifier.service.js';

/**
 * Moves committed outbox rows to the `pdeck-events` queue (worker processes only). Each pass, in
 * one Postgres transaction: take the relay's advisory lock (one relay at a time in the whole
 * deployment, so events reach the queue in outbox order; another worker takes over as soon as
 * this one stops), read the oldest rows, queue them with the row id as job id, delete them,
 * commit. A crash or a Postgres failure after the queueing leaves the rows, and the next pass
 * queues them again: same job ids, so no second job while Redis holds the first, and PDeck
 * dedupes on the same `webhook-id` anyway. While Redis is away the queueing times out, the
 * transaction rolls back and the rows wait.
 *
 * Polling, not LISTEN/NOTIFY: a pass on an empty table is one indexed query, a few per second per
 * worker; NOTIFY would take a database-wide lock at every commit of the items path and needs a
 * dedicated connection to re-establish after every Postgres restart, for a gain of at most one
 * poll interval of latency.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  /** A queueing that timed out: BullMQ still sends it once Redis is back; nothing goes on top. */
  private unsettled?: Promise<unknown>;
  private readonly poller = new BackoffPoller({
    everyMs: OUTBOX_POLL_MS,
    maxRetryMs: OUTBOX_MAX_RETRY_MS,
    logger: new Logger('PdeckEvents'),
    pausedMessage: 'outbox relay paused: events wait in Postgres',
    resumedMessage: 'outbox relay resumed',
    round: async () => (await this.relayBatch()) === OUTBOX_BATCH,
  });

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: EventOutboxStore,
    private readonly notifier: PdeckNotifier,
  ) {}

  onApplicationBootstrap(): void {
    // Notifications off: rows written while they were on wait until they are on again.
    if (this.notifier.enabled) this.poller.start();
  }

  /** Before the pools close (onModuleDestroy runs ahead of every shutdown hook). */
  onModuleDestroy(): Promise<void> {
    return this.poller.stop();
  }

  /** One transaction: lock, read, queue, delete. Returns how many events it queued. */
  private async relayBatch(): Promise<number> {
    if (this.unsettled) throw new QueueTimeoutError('Queue has not answered the last batch yet');
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const [{ locked }]: { locked: boolean }[] = await runner.query(
        'SELECT pg_try_advisory_xact_lock($1) AS locked',
        [OUTBOX_RELAY_LOCK_ID],
      );
      const events = locked ? await this.outbox.oldest(runner, OUTBOX_BATCH) : [];
      if (events.length > 0) {
        const queued = this.notifier.enqueue(events);
        try {
          await withQueueTimeout(queued, OUTBOX_ENQUEUE_TIMEOUT_MS);
        } catch (error) {
          if (error instanceof QueueTimeoutError) {
            this.unsettled = queued
              .catch(() => undefined)
              .finally(() => (this.unsettled = undefined));
          }
          throw error;
        }
        await this.outbox.delete(
          runner,
          events.map((e) => e.id),
        );
      }
      await runner.commitTransaction();
      return events.length;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }
}
