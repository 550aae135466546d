import { Module } from '@nestjs/common';
import { EventsModule } from './events.module.js';
import { PdeckEventsProcessor } from './pdeck-events.processor.js';

/** Delivers the queued notifications to PDeck (ROLE=worker or all). */
@Module({
  imports: [EventsModule],
  providers: [PdeckEventsProcessor],
})
export class EventsWorkerModule {}
