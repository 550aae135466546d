import { BullModule, InjectQueue } from '@nestjs/bullmq';
import { Module, type OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { MetricsService } from '../core/metrics/metrics.service.js';
import { ConnectionEventsListener } from './connection-events.listener.js';
import {
  DEFAULT_BACKOFF_BASE_MS,
  PDECK_EVENTS_BACKOFF_BASE_MS,
  PDECK_EVENTS_QUEUE,
} from './events.constants.js';
import { EventOutboxStore } from './event-outbox.store.js';
import { PdeckNotifier } from './pdeck-notifier.service.js';

/**
 * Notifications to PDeck, recording side: every process that changes data imports this and
 * records events with PdeckNotifier into the outbox. The relay and the delivering processor live
 * in EventsWorkerModule (worker processes only). Needs the global CoreModule (APP_CONFIG,
 * Postgres, BullModule.forRoot, EventEmitterModule, metrics).
 */
@Module({
  imports: [BullModule.registerQueue({ name: PDECK_EVENTS_QUEUE })],
  providers: [
    // Tests shorten the retry backoff with overrideProvider(PDECK_EVENTS_BACKOFF_BASE_MS).
    { provide: PDECK_EVENTS_BACKOFF_BASE_MS, useValue: DEFAULT_BACKOFF_BASE_MS },
    EventOutboxStore,
    PdeckNotifier,
    ConnectionEventsListener,
  ],
  exports: [PdeckNotifier, EventOutboxStore, PDECK_EVENTS_BACKOFF_BASE_MS, BullModule],
})
export class EventsModule implements OnModuleInit {
  constructor(
    @InjectQueue(PDECK_EVENTS_QUEUE) private readonly queue: Queue,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.metrics.trackQueue(this.queue);
  }
}
