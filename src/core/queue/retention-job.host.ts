import { WorkerHost } from '@nestjs/bullmq';
import { Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { MetricsService } from '../metrics/metrics.service.js';
import { withQueueTimeout } from './queue-timeout.js';
import { RETENTION_EVERY_MS, RETENTION_JOB_OPTIONS } from './retention-schedule.js';

/**
 * The processor of one retention queue (worker role only): installs the queue's hourly job
 * scheduler at startup and runs `pass()` for each job. A queue of its own per table owner, so the
 * feature's hot-path processors stay plain and a long first pass never holds one of their slots.
 * Subclasses add `@Processor(<their queue>)` and the pass.
 */
export abstract class RetentionJobHost<R>
  extends WorkerHost
  implements OnModuleInit, OnApplicationBootstrap
{
  private readonly logger: Logger;

  protected constructor(
    private readonly queue: Queue,
    private readonly metrics: MetricsService,
    /** One scheduler for the whole deployment: every worker upserts the same id. */
    private readonly schedulerId: string,
  ) {
    super();
    this.logger = new Logger(schedulerId);
  }

  protected abstract pass(): Promise<R>;

  onModuleInit(): void {
    this.metrics.trackQueue(this.queue);
  }

  /** Idempotent (upsert by id): every worker installs it at startup, one scheduler remains. */
  async onApplicationBootstrap(): Promise<void> {
    try {
      await withQueueTimeout(
        this.queue.upsertJobScheduler(
          this.schedulerId,
          { every: RETENTION_EVERY_MS },
          { name: 'prune', data: {}, opts: RETENTION_JOB_OPTIONS },
        ),
        5_000,
      );
    } catch (error) {
      // Redis away at boot: another worker or the next start installs it; nothing is urgent.
      this.logger.error({
        msg: 'could not install the retention scheduler',
        schedulerId: this.schedulerId,
        error: (error as Error).message,
      });
    }
  }

  process(): Promise<R> {
    return this.pass();
  }
}
