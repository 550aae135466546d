import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { PeriodicTask } from '../core/runtime/periodic-task.js';
import { type StaleCursor, WebhookDeliveriesService } from './webhook-deliveries.service.js';
import { WebhookJobs } from './webhook-jobs.service.js';
import { CLOCK, type Clock, SWEEP_AFTER_MS, SWEEP_EVERY_MS } from './webhooks.constants.js';

/** Waiting deliveries one pass looks at (the passes page through all of them). */
export const SWEEP_PAGE_SIZE = 500;

/**
 * Re-enqueues deliveries that were stored (and maybe acknowledged) but whose job never made it
 * to Redis or was lost with it (the enqueue timed out, Redis restarted without its data), or
 * whose job ended as completed or failed without finishing the row (WebhookJobs.requeue replaces
 * such a job: a plain re-add of its id would be ignored for as long as BullMQ keeps it).
 *
 * Each pass reads one page of waiting rows, oldest first, and the next pass continues after it;
 * after the last page it starts over from the oldest. So rows it cannot move on (their job is
 * waiting behind a backlog, or delayed) never hide newer rows: with N such rows a newer one is
 * reached within N / page size + 1 passes.
 *
 * Every worker runs one (its own cursor); requeueing is idempotent because the job id is the row
 * id. A timer, not a BullMQ scheduler, because it has to work precisely when Redis has lost its
 * state.
 */
@Injectable()
export class WebhookSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('WebhookSweeper');
  private readonly task = new PeriodicTask(
    SWEEP_EVERY_MS,
    () => this.sweepOnce(),
    () => 0,
  );
  /** Where the next pass starts; null: from the oldest waiting row. */
  private cursor: StaleCursor | null = null;

  constructor(
    private readonly deliveries: WebhookDeliveriesService,
    private readonly jobs: WebhookJobs,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.task.start();
  }

  /** Before pools close (onModuleDestroy runs ahead of every shutdown hook). */
  onModuleDestroy(): Promise<void> {
    return this.task.stop();
  }

  /** Returns how many deliveries were re-enqueued. Never throws: the next round retries. */
  sweep(): Promise<number> {
    return this.task.runNow();
  }

  private async sweepOnce(): Promise<number> {
    let requeued = 0;
    let replaced = 0;
    try {
      const before = new Date(this.clock.now().getTime() - SWEEP_AFTER_MS);
      const page = await this.deliveries.stale(before, this.cursor, SWEEP_PAGE_SIZE);
      for (const id of page.ids) {
        const outcome = await this.jobs.requeue(id);
        if (outcome !== 'pending') requeued++;
        if (outcome === 'replaced') replaced++;
      }
      // Only a page fully handed out moves the cursor: an interrupted one is read again.
      this.cursor = page.next;
    } catch (error) {
      this.logger.warn({
        msg: 'webhook sweep interrupted',
        requeued,
        error: (error as Error).message,
      });
    }
    if (requeued) this.logger.log({ msg: 'webhook deliveries re-enqueued', requeued, replaced });
    return requeued;
  }
}
