/** One caller's part of a group: its input and how to answer it. */
export interface Waiting<In, Out> {
  input: In;
  resolve: (value: Out) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: callers that arrive while a group is being committed wait for the next one, and
 * each group is handled by one call of `commit` (one statement, one transaction, one bulk add
 * instead of one per caller). An idle batcher commits a lone caller at once, so nothing waits for
 * a group to fill; under load, groups grow by themselves to what arrived during the last commit.
 *
 * `commit` answers every caller of its group (resolve or reject each); if it throws, the callers
 * it left unanswered are rejected with that error, so no caller is ever left hanging.
 */
export class GroupCommit<In, Out> {
  private waiting: Waiting<In, Out>[] = [];
  private running = false;

  constructor(
    private readonly limit: number,
    private readonly commit: (group: Waiting<In, Out>[]) => Promise<void>,
  ) {}

  submit(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length > 0) {
        const group = this.waiting.splice(0, this.limit);
        const answered = new Set<Waiting<In, Out>>();
        const tracked = group.map((w) => ({
          input: w.input,
          resolve: (value: Out) => (answered.add(w), w.resolve(value)),
          reject: (error: unknown) => (answered.add(w), w.reject(error)),
        }));
        try {
          await this.commit(tracked);
        } catch (error) {
          for (const w of group) if (!answered.has(w)) w.reject(error);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
