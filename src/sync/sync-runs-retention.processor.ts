import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { MetricsService } from '../core/metrics/metrics.service.js';
import { withQueueTimeout } from '../core/queue/queue-timeout.js';
import { RETENTION_EVERY_MS, RETENTION_JOB_OPTIONS } from '../core/queue/retention-schedule.js';
import { SyncRunsRetentionService } from './sync-runs-retention.service.js';

export const SYNC_RETENTION_QUEUE = 'sync-retention';
/** One scheduler for the whole deployment: every worker upserts the same id. */
export const SYNC_RETENTION_SCHEDULER_ID = 'retention-sync-runs';

/**
 * Runs the sync_runs retention pass hourly (worker role only). A queue of its own: the sync
 * queue's slots belong to syncs, and its processor treats every other job as a sync run.
 */
@Processor(SYNC_RETENTION_QUEUE)
export class SyncRunsRetentionProcessor
  extends WorkerHost
  implements OnModuleInit, OnApplicationBootstrap
{
  private readonly logger = new Logger('SyncRunsRetention');

  constructor(
    private readonly retention: SyncRunsRetentionService,
    @InjectQueue(SYNC_RETENTION_QUEUE) private readonly queue: Queue,
    private readonly metrics: MetricsService,
  ) {
    super();
  }

  onModuleInit(): void {
    this.metrics.trackQueue(this.queue);
  }

  /** Idempotent (upsert by id): every worker installs it at startup, one scheduler remains. */
  async onApplicationBootstrap(): Promise<void> {
    try {
      await withQueueTimeout(
        this.queue.upsertJobScheduler(
          SYNC_RETENTION_SCHEDULER_ID,
          { every: RETENTION_EVERY_MS },
          { name: 'prune', data: {}, opts: RETENTION_JOB_OPTIONS },
        ),
        5_000,
      );
    } catch (error) {
      // Redis away at boot: another worker or the next start installs it; nothing is urgent.
      this.logger.error({
        msg: 'could not install the sync runs retention scheduler',
        error: (error as Error).message,
      });
    }
  }

  process(): Promise<{ deleted: number }> {
    return this.retention.run();
  }
}
