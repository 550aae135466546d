import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module, type OnApplicationBootstrap, Logger } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { EventsModule } from '../events/events.module.js';
import { ItemsModule } from '../items/items.module.js';
import { ProviderContextFactory } from '../providers/provider-context.factory.js';
import { ProviderRegistry } from '../providers/provider-registry.js';
import { RateBudgetService } from './rate-budget.service.js';
import { SyncController } from './sync.controller.js';
import { SyncProcessor } from './sync.processor.js';
import { SyncRunnerService } from './sync-runner.service.js';
import { SyncRunsService } from './sync-runs.service.js';
import { SyncSchedulerService } from './sync-scheduler.service.js';
import { SyncStateService } from './sync-state.service.js';
import { SyncTriggerService } from './sync-trigger.service.js';
import { SYNC_QUEUE } from './sync.constants.js';

@Module({})
export class SyncModule implements OnApplicationBootstrap {
  private readonly logger = new Logger(SyncModule.name);

  /** `worker`: consume the sync queue in this process (ROLE=all|worker). */
  static forRoot(options: { worker: boolean }): DynamicModule {
    return {
      module: SyncModule,
      imports: [
        BullModule.registerQueue({ name: SYNC_QUEUE }),
        AuthModule,
        ItemsModule,
        EventsModule.forRoot({ worker: options.worker }),
      ],
      controllers: [SyncController],
      providers: [
        SyncStateService,
        SyncRunsService,
        SyncTriggerService,
        SyncSchedulerService,
        SyncRunnerService,
        RateBudgetService,
        ...(options.worker ? [SyncProcessor] : []),
      ],
      exports: [SyncTriggerService, SyncSchedulerService, RateBudgetService],
    };
  }

  constructor(
    private readonly scheduler: SyncSchedulerService,
    private readonly budgets: RateBudgetService,
    private readonly contexts: ProviderContextFactory,
    private readonly registry: ProviderRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Every provider request waits for (or is refused by) the shared Redis budgets.
    this.contexts.beforeRequest = (provider, connectionId) =>
      this.budgets.acquire(provider, connectionId, this.registry.get(provider).catalog.rateBudgets);
    const { scheduled, removed } = await this.scheduler.reconcile();
    this.logger.log({ scheduled, removed }, 'Sync schedulers reconciled with active connections');
  }
}
