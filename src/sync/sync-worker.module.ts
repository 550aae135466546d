import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { EventsModule } from '../events/events.module.js';
import {
  SYNC_RETENTION_QUEUE,
  SyncRunsRetentionProcessor,
} from './sync-runs-retention.processor.js';
import { SyncRunsRetentionService } from './sync-runs-retention.service.js';
import { ScheduleReconciler } from './schedule-reconciler.service.js';
import { SyncModule } from './sync.module.js';
import { SyncProcessor } from './sync.processor.js';

/** Consumes the sync queue in this process (ROLE=worker or all), and prunes sync_runs hourly. */
@Module({
  imports: [
    BullModule.registerQueue({ name: SYNC_RETENTION_QUEUE }),
    SyncModule,
    AuthModule,
    EventsModule,
  ],
  providers: [
    SyncProcessor,
    ScheduleReconciler,
    SyncRunsRetentionService,
    SyncRunsRetentionProcessor,
  ],
})
export class SyncWorkerModule {}
