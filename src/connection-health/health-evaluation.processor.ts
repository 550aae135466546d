import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { MetricsService } from '../core/metrics/metrics.service.js';
import { withQueueTimeout } from '../core/queue/queue-timeout.js';
import { type EvaluationResult, HealthEvaluationService } from './health-evaluation.service.js';

export const HEALTH_QUEUE = 'connection-health';
export const HEALTH_SCHEDULER_ID = 'connection-health-evaluation';
export const HEALTH_EVERY_MS = 60_000;

/**
 * Runs the evaluation every minute, once per deployment: one job scheduler (every worker
 * upserts the same id), its own queue like the retention schedules. Finished jobs are bounded.
 */
@Processor(HEALTH_QUEUE)
export class HealthEvaluationProcessor
  extends WorkerHost
  implements OnModuleInit, OnApplicationBootstrap
{
  private readonly logger = new Logger(HEALTH_SCHEDULER_ID);

  constructor(
    private readonly evaluation: HealthEvaluationService,
    @InjectQueue(HEALTH_QUEUE) private readonly queue: Queue,
    private readonly metrics: MetricsService,
  ) {
    super();
  }

  onModuleInit(): void {
    this.metrics.trackQueue(this.queue);
  }

  async onApplicationBootstrap(): Promise<void> {
    try {
      await withQueueTimeout(
        this.queue.upsertJobScheduler(
          HEALTH_SCHEDULER_ID,
          { every: HEALTH_EVERY_MS },
          {
            name: 'evaluate',
            data: {},
            opts: {
              removeOnComplete: { age: 86_400, count: 100 },
              removeOnFail: { age: 7 * 86_400, count: 200 },
            },
          },
        ),
        5_000,
      );
    } catch (error) {
      // Redis away at boot: another worker or the next start installs it.
      this.logger.error({
        msg: 'could not install the connection-health scheduler',
        error: (error as Error).message,
      });
    }
  }

  process(): Promise<EvaluationResult> {
    return this.evaluation.run();
  }
}
