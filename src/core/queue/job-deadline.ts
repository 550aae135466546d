/** A queue job ran past its deadline (SYNC_JOB_TIMEOUT_MS, WEBHOOK_JOB_TIMEOUT_MS). */
export class JobDeadlineError extends Error {
  override readonly name = 'JobDeadlineError';
  /** What the job's failure records (sync runs keep it as their error code). */
  readonly code = 'JOB_DEADLINE';

  constructor(
    readonly what: string,
    readonly deadlineMs: number,
  ) {
    super(`${what} exceeded its deadline of ${deadlineMs} ms`);
  }
}

/**
 * How long a job that was told to stop may take to unwind (its HTTP calls abort at once, a
 * running statement ends at statement_timeout at the latest) before its promise is given up on.
 */
export const DEADLINE_GRACE_MS = 5_000;

/**
 * Runs `work` with a deadline. BullMQ (open-source) has no per-job timeout: a job stuck on a
 * hung call keeps its worker slot, renews its lock and never ends. At the deadline the signal
 * handed to `work` aborts with a JobDeadlineError: provider HTTP calls bound to it fail at once
 * and the sync runner stops between pages. If `work` has not settled DEADLINE_GRACE_MS later
 * (something ignores the signal), the job fails anyway with that error, so BullMQ retries or
 * fails it and the slot is free. What was left running can only finish its current database
 * statement (bounded by statement_timeout); transaction-scoped advisory locks end with its
 * transaction, whichever way it ends.
 */
export async function withDeadline<T>(
  deadlineMs: number,
  what: string,
  work: (signal: AbortSignal) => Promise<T>,
  graceMs = DEADLINE_GRACE_MS,
): Promise<T> {
  const controller = new AbortController();
  // Built when the deadline passes: an Error captures a stack, and nearly every job ends in time.
  let deadline: JobDeadlineError | undefined;
  let giveUp: NodeJS.Timeout | undefined;
  const abandoned = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => {
      giveUp = setTimeout(() => reject(deadline), graceMs);
    });
  });
  const timer = setTimeout(() => {
    deadline = new JobDeadlineError(what, deadlineMs);
    controller.abort(deadline);
  }, deadlineMs);
  const running = work(controller.signal);
  running.catch(() => undefined);
  try {
    return await Promise.race([running, abandoned]);
  } catch (error) {
    // Whatever the work threw once it was told to stop, the reason is the deadline.
    throw controller.signal.aborted ? deadline : error;
  } finally {
    clearTimeout(timer);
    clearTimeout(giveUp);
  }
}
