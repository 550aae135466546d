import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { PeriodicTask } from '../core/runtime/periodic-task.js';
import { SyncSchedulerService } from './sync-scheduler.service.js';

const RECONCILE_EVERY_MS = 10 * 60_000;

/**
 * Re-runs the scheduler reconcile in worker processes every 10 minutes, not only at startup: a
 * connection activated while Redis was away (its confirmation answered, its follow-up timed out)
 * or schedulers lost with Redis data come back without a restart. Idempotent.
 */
@Injectable()
export class ScheduleReconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ScheduleReconciler.name);
  private readonly task = new PeriodicTask(
    RECONCILE_EVERY_MS,
    async () => {
      const { scheduled, removed } = await this.scheduler.reconcile();
      if (removed) this.logger.log({ scheduled, removed }, 'Sync schedulers reconciled');
    },
    (error) =>
      this.logger.warn({ msg: 'scheduler reconcile failed', error: (error as Error).message }),
  );

  constructor(private readonly scheduler: SyncSchedulerService) {}

  onApplicationBootstrap(): void {
    this.task.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.task.stop();
  }
}
