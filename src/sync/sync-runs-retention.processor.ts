import { InjectQueue, Processor } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { MetricsService } from '../core/metrics/metrics.service.js';
import { RetentionJobHost } from '../core/queue/retention-job.host.js';
import { SyncRunsRetentionService } from './sync-runs-retention.service.js';

export const SYNC_RETENTION_QUEUE = 'sync-retention';
export const SYNC_RETENTION_SCHEDULER_ID = 'retention-sync-runs';

/** Prunes sync_runs hourly. Its own queue: the sync processor treats every job as a sync run. */
@Processor(SYNC_RETENTION_QUEUE)
export class SyncRunsRetentionProcessor extends RetentionJobHost<{ deleted: number }> {
  constructor(
    private readonly retention: SyncRunsRetentionService,
    @InjectQueue(SYNC_RETENTION_QUEUE) queue: Queue,
    metrics: MetricsService,
  ) {
    super(queue, metrics, SYNC_RETENTION_SCHEDULER_ID);
  }

  protected pass(): Promise<{ deleted: number }> {
    return this.retention.run();
  }
}
