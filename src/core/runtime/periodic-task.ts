/**
 * Runs `task` every `everyMs` in this process, one round at a time (a slow round is never
 * overlapped by the next), and lets shutdown wait for the round in progress. For housekeeping
 * that must also work when Redis lost its state, where a BullMQ scheduler would not fire.
 * A task must not throw; `onError` hears it if it does, and the next round runs as usual.
 */
export class PeriodicTask {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly everyMs: number,
    private readonly task: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.runNow(), this.everyMs);
    this.timer.unref();
  }

  /** One round now, or the round already in progress. */
  runNow(): Promise<void> {
    this.running ??= this.task()
      .catch(this.onError)
      .finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
