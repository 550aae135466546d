import { BullModule, InjectQueue } from '@nestjs/bullmq';
import { Logger, Module, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { AuthModule } from '../auth/auth.module.js';
import { ConnectionHealthCoreModule } from '../connection-health/connection-health-core.module.js';
import { MetricsService } from '../core/metrics/metrics.service.js';
import { EventsModule } from '../events/events.module.js';
import { ItemsModule } from '../items/items.module.js';
import { ResourceRetirer } from './resource-retirer.service.js';
import { SyncController } from './sync.controller.js';
import { SyncPageCommitter } from './sync-page-committer.service.js';
import { SyncRunnerService } from './sync-runner.service.js';
import { SyncRunsService } from './sync-runs.service.js';
import { SyncSchedulerService } from './sync-scheduler.service.js';
import { SyncStateService } from './sync-state.service.js';
import { SyncTriggerService } from './sync-trigger.service.js';
import { SYNC_QUEUE } from './sync.constants.js';

/**
 * Syncs: the API (trigger, schedule, history), the schedulers, and the engine that runs one sync.
 * The BullMQ processor that consumes the queue lives in SyncWorkerModule (worker processes only).
 */
@Module({
  imports: [
    BullModule.registerQueue({ name: SYNC_QUEUE }),
    AuthModule,
    ItemsModule,
    EventsModule,
    ConnectionHealthCoreModule,
  ],
  controllers: [SyncController],
  providers: [
    SyncStateService,
    SyncRunsService,
    SyncTriggerService,
    SyncSchedulerService,
    SyncPageCommitter,
    ResourceRetirer,
    SyncRunnerService,
  ],
  exports: [SyncTriggerService, SyncSchedulerService, SyncRunsService, SyncRunnerService],
})
export class SyncModule implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger(SyncModule.name);

  constructor(
    private readonly scheduler: SyncSchedulerService,
    @InjectQueue(SYNC_QUEUE) private readonly queue: Queue,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.metrics.trackQueue(this.queue);
  }

  async onApplicationBootstrap(): Promise<void> {
    const { scheduled, removed } = await this.scheduler.reconcile();
    this.logger.log({ scheduled, removed }, 'Sync schedulers reconciled with active connections');
  }
}
