import type { Logger } from '@nestjs/common';

export interface BackoffPollerOptions {
  /** Pause between drains when all went well. */
  everyMs: number;
  /** Longest pause after failures (the pause doubles from everyMs with each failed drain). */
  maxRetryMs: number;
  logger: Logger;
  /** Logged (warn) at the first failure of an outage, with the error's message. */
  pausedMessage: string;
  /** Logged once the poller works again, with how many drains failed. */
  resumedMessage: string;
  /** One round of work; true when it may have left more to do right now. */
  round: () => Promise<boolean>;
}

/**
 * A worker-side poller over Postgres: rounds until a round reports nothing more to do, then a
 * pause, all on one timer that never keeps the process alive. A failed drain (the database away)
 * backs off exponentially and is logged once per outage, not every pass; the rows it would have
 * moved simply wait. stop() prevents the next drain and waits for the one in progress, so it
 * belongs in onModuleDestroy, before the pools close.
 */
export class BackoffPoller {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private running?: Promise<void>;
  private failures = 0;

  constructor(private readonly options: BackoffPollerOptions) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Rounds until there is nothing more to do; the pause before the next drain. Never throws. */
  async drain(): Promise<number> {
    const o = this.options;
    try {
      while ((await o.round()) && !this.stopped);
      if (this.failures > 0) {
        o.logger.log({ msg: o.resumedMessage, failedPasses: this.failures });
        this.failures = 0;
      }
      return o.everyMs;
    } catch (error) {
      this.failures++;
      if (this.failures === 1) {
        o.logger.warn({ msg: o.pausedMessage, error: (error as Error).message });
      }
      return Math.min(o.everyMs * 2 ** this.failures, o.maxRetryMs);
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.drain()
        .then((next) => this.schedule(next))
        .finally(() => (this.running = undefined));
    }, ms);
    this.timer.unref();
  }
}
