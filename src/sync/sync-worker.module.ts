import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { EventsModule } from '../events/events.module.js';
import { ScheduleReconciler } from './schedule-reconciler.service.js';
import { SyncModule } from './sync.module.js';
import { SyncProcessor } from './sync.processor.js';

/** Consumes the sync queue in this process (ROLE=worker or all). */
@Module({
  imports: [SyncModule, AuthModule, EventsModule],
  providers: [SyncProcessor, ScheduleReconciler],
})
export class SyncWorkerModule {}
