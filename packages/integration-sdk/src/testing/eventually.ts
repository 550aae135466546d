/**
 * The one polling helper of the contract kit, and of the service's own test suites (medium, e2e,
 * fault, and the benchmarks that reuse the fault harness).
 */

/**
 * Thrown from a check to stop waiting at once: the awaited state can no longer come (a process
 * exited, a run failed). Any other error is retried until the deadline, because the thing being
 * polled may be restarting on purpose (a database in a fault test, a port not open yet).
 */
export class GiveUp extends Error {
  override readonly name = 'GiveUp';
}

export interface EventuallyOptions {
  /** How long to keep polling (default 15 s). */
  timeoutMs?: number;
  /** Pause between checks (default 50 ms). */
  everyMs?: number;
  /** Extra state for the timeout message (a few rows, the fake's recent requests). */
  debug?: () => unknown;
}

/**
 * Calls `check` until it returns a value other than `undefined` and returns that value. On
 * timeout it throws, naming `what`, the last error the check threw and the `debug` state.
 *
 * `timeoutMs` may be given as a number, with `everyMs` after it (the form the harness uses).
 */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  what: string,
  options: EventuallyOptions | number = {},
  everyMs?: number,
): Promise<T> {
  const opts = typeof options === 'number' ? { timeoutMs: options, everyMs } : options;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const pause = opts.everyMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      if (error instanceof GiveUp) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      const state = opts.debug ? ` (state: ${await describe(opts.debug)})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}${state}`);
    }
    await new Promise((r) => setTimeout(r, pause));
  }
}

/** `eventually` for a yes/no condition. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  options: EventuallyOptions | number = {},
): Promise<void> {
  await eventually(async () => ((await condition()) ? true : undefined), what, options);
}

async function describe(debug: () => unknown): Promise<string> {
  try {
    return JSON.stringify(await debug());
  } catch (error) {
    return `unavailable: ${(error as Error).message}`;
  }
}
