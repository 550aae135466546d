import { Module } from '@nestjs/common';
import { EventsModule } from './events.module.js';
import { OutboxRelay } from './outbox-relay.service.js';
import { PdeckEventsProcessor } from './pdeck-events.processor.js';

/** Relays the outbox to the queue and delivers the queued notifications (ROLE=worker or all). */
@Module({
  imports: [EventsModule],
  providers: [OutboxRelay, PdeckEventsProcessor],
})
export class EventsWorkerModule {}
