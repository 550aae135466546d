import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { PeriodicTask } from '../core/runtime/periodic-task.js';
import { ConfirmService } from './confirm.service.js';
import { ConnectionStore } from './connection-store.service.js';

const SWEEP_EVERY_MS = 60_000;
const BATCH = 100;

/**
 * Grants nobody confirmed within their window are revoked at the provider and forgotten: a
 * pending connection row goes, a reconnect's row keeps its previous credentials. Runs in worker
 * processes; two workers ending the same grant at once only repeat an idempotent revocation.
 */
@Injectable()
export class PendingGrantsSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PendingGrantsSweeper.name);
  private readonly task = new PeriodicTask(
    SWEEP_EVERY_MS,
    () => this.sweepOnce(),
    (error) =>
      this.logger.warn({ msg: 'pending grant sweep interrupted', error: (error as Error).message }),
  );

  constructor(
    private readonly store: ConnectionStore,
    private readonly confirmations: ConfirmService,
  ) {}

  onApplicationBootstrap(): void {
    this.task.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.task.stop();
  }

  /** Ends every expired grant (in batches); the next round retries what failed. */
  sweep(): Promise<void> {
    return this.task.runNow();
  }

  private async sweepOnce(): Promise<void> {
    let ended = 0;
    for (;;) {
      const expired = await this.store.listExpiredPending(new Date(), BATCH);
      for (const connection of expired) {
        await this.confirmations.end(connection, 'confirmation_expired');
        ended++;
      }
      if (expired.length < BATCH) break;
    }
    if (ended) this.logger.log({ msg: 'unconfirmed grants ended', ended });
  }
}
