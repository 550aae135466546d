/**
 * Runs `task` every `everyMs` in this process, one round at a time (a slow round is never
 * overlapped by the next; asking for a round while one runs joins it), and lets shutdown wait
 * for the round in progress. For housekeeping that must also work when Redis lost its state,
 * where a BullMQ scheduler would not fire. A task that throws is handed to `onError`, whose
 * answer becomes the round's result; the next round runs as usual.
 */
export class PeriodicTask<T = void> {
  private timer?: NodeJS.Timeout;
  private running?: Promise<T>;

  constructor(
    private readonly everyMs: number,
    private readonly task: () => Promise<T>,
    private readonly onError: (error: unknown) => T,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.runNow(), this.everyMs);
    this.timer.unref();
  }

  /** One round now, or the round already in progress. */
  runNow(): Promise<T> {
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
