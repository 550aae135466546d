import { randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { JobsOptions, Queue } from 'bullmq';
import { DataSource, type EntityManager } from 'typeorm';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import {
  PDECK_BACKOFF_TYPE,
  PDECK_EVENTS_ATTEMPTS,
  PDECK_EVENTS_BACKOFF_BASE_MS,
  PDECK_EVENTS_QUEUE,
} from './events.constants.js';
import { EventOutboxStore } from './event-outbox.store.js';
import {
  pickEventData,
  type PdeckEventDataMap,
  type PdeckEventJob,
  type PdeckEventType,
} from './pdeck-event.js';

/**
 * Notifications for PDeck through a transactional outbox: an event is a row of event_outbox,
 * written in the transaction of the change it describes (record) or on its own (notify), so a
 * committed change always has its event and a rolled-back one never does. OutboxRelay (worker
 * role) moves committed rows to the `pdeck-events` queue with enqueue(); PdeckEventsProcessor
 * delivers them. Callers never wait on Redis or PDeck, and an outage of either only delays.
 */
@Injectable()
export class PdeckNotifier {
  constructor(
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
    @InjectQueue(PDECK_EVENTS_QUEUE) private readonly queue: Queue<PdeckEventJob>,
    @Inject(PDECK_EVENTS_BACKOFF_BASE_MS) private readonly backoffBaseMs: number,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: EventOutboxStore,
  ) {}

  /** Whether notifications are configured (PDECK_EVENTS_URL and PDECK_EVENTS_SECRET). */
  get enabled(): boolean {
    return this.config.pdeckEvents !== undefined;
  }

  /**
   * Records one event that belongs to no transaction of the caller (connection events,
   * sync.failed); resolves once it is committed to the outbox. A no-op when the feature is off.
   */
  async notify<T extends PdeckEventType>(type: T, data: PdeckEventDataMap[T]): Promise<void> {
    await this.record(this.dataSource.manager, type, data);
  }

  /**
   * Records one event in the caller's transaction (`manager` is the transaction's): it exists
   * if and only if the transaction commits. A no-op when the feature is off. Only the allowed
   * id/count fields of `data` are kept (see pickEventData).
   */
  async record<T extends PdeckEventType>(
    manager: EntityManager,
    type: T,
    data: PdeckEventDataMap[T],
  ): Promise<void> {
    if (!this.enabled) return;
    const event: PdeckEventJob<T> = {
      id: `evt_${randomUUID()}`,
      type,
      timestamp: new Date().toISOString(),
      data: pickEventData(type, data),
    };
    await this.outbox.insert(manager, event);
  }

  /**
   * Queues events taken from the outbox (OutboxRelay); resolves once Redis holds them. The event
   * id is the job id, so queuing the same event again (a relay that crashed before deleting its
   * rows) adds nothing while Redis still holds the first job; PDeck dedupes on the same id.
   */
  async enqueue(events: readonly PdeckEventJob[]): Promise<void> {
    if (events.length === 0) return;
    await this.queue.addBulk(
      events.map((event) => ({ name: event.type, data: event, opts: this.jobOptions(event) })),
    );
  }

  private jobOptions(event: PdeckEventJob): JobsOptions {
    const options: JobsOptions = {
      // The event id doubles as the job id: one job per event, and the dashboard finds it by id.
      jobId: event.id,
      attempts: PDECK_EVENTS_ATTEMPTS,
      backoff: { type: PDECK_BACKOFF_TYPE, delay: this.backoffBaseMs },
      // Completed jobs are only useful for a day of debugging; bound their memory.
      removeOnComplete: { age: 86_400, count: 10_000 },
      // Failed jobs are the dead letter, kept for a retry or inspection: 14 days and at most the
      // newest 10,000, so a long PDeck outage cannot fill a noeviction Redis. Events beyond the
      // bound are gone from Redis; PDeck catches up from the changes feed (GET /v1/items).
      removeOnFail: { age: 14 * 86_400, count: 10_000 },
    };
    return options;
  }
}
