import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { WebhookDeliveriesService } from './webhook-deliveries.service.js';
import { WebhookJobs } from './webhook-jobs.service.js';
import { CLOCK, type Clock, SWEEP_AFTER_MS, SWEEP_EVERY_MS } from './webhooks.constants.js';

/**
 * Re-enqueues deliveries that were stored (and maybe acknowledged) but whose job never made it
 * to Redis or was lost with it: the enqueue timed out, or Redis restarted without its data.
 * Every worker runs one; re-adding is idempotent because the job id is the row id. A timer, not
 * a BullMQ scheduler, because it has to work precisely when Redis has lost its state.
 */
@Injectable()
export class WebhookSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('WebhookSweeper');
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    private readonly deliveries: WebhookDeliveriesService,
    private readonly jobs: WebhookJobs,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
    this.timer.unref();
  }

  /** Before pools close (onModuleDestroy runs ahead of every shutdown hook). */
  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Returns how many deliveries were re-enqueued. Never throws: the next round retries. */
  sweep(): Promise<number> {
    this.running ??= this.sweepOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweepOnce(): Promise<number> {
    let requeued = 0;
    try {
      const before = new Date(this.clock.now().getTime() - SWEEP_AFTER_MS);
      for (const id of await this.deliveries.stale(before)) {
        await this.jobs.enqueue(id);
        requeued++;
      }
    } catch (error) {
      this.logger.warn({
        msg: 'webhook sweep interrupted',
        requeued,
        error: (error as Error).message,
      });
    }
    if (requeued) this.logger.log({ msg: 'webhook deliveries re-enqueued', requeued });
    return requeued;
  }
}
