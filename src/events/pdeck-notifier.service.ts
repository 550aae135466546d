import { randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import {
  PDECK_BACKOFF_TYPE,
  PDECK_EVENTS_ATTEMPTS,
  PDECK_EVENTS_BACKOFF_BASE_MS,
  PDECK_EVENTS_QUEUE,
} from './events.constants.js';
import {
  pickEventData,
  type PdeckEventDataMap,
  type PdeckEventJob,
  type PdeckEventType,
} from './pdeck-event.js';

/**
 * Enqueues notifications for PDeck. Delivery happens in PdeckEventsProcessor (worker role), so
 * callers never wait on PDeck and an outage only delays notifications.
 */
@Injectable()
export class PdeckNotifier {
  constructor(
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
    @InjectQueue(PDECK_EVENTS_QUEUE) private readonly queue: Queue<PdeckEventJob>,
    @Inject(PDECK_EVENTS_BACKOFF_BASE_MS) private readonly backoffBaseMs: number,
  ) {}

  /** Whether notifications are configured (PDECK_EVENTS_URL and PDECK_EVENTS_SECRET). */
  get enabled(): boolean {
    return this.config.pdeckEvents !== undefined;
  }

  /**
   * Queues one event; resolves once it is stored in Redis. A no-op when the feature is off.
   * Only the allowed id/count fields of `data` are kept (see pickEventData).
   */
  async notify<T extends PdeckEventType>(type: T, data: PdeckEventDataMap[T]): Promise<void> {
    if (!this.enabled) return;
    const event: PdeckEventJob<T> = {
      id: `evt_${randomUUID()}`,
      type,
      timestamp: new Date().toISOString(),
      data: pickEventData(type, data),
    };
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
    await this.queue.add(type, event, options);
  }
}
