import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
let hooked = false;

/**
 * Kills `child` when this process exits, however the test ended (a failed beforeAll, a timeout,
 * an uncaught error): a service process, redis-server or Postgres left running would hold ports
 * and memory on the machine long after the run. Returns the child for chaining.
 */
export function reapOnExit<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const c of children) c.kill('SIGKILL');
    });
  }
  return child;
}

/** Sends `signal` to a running child and resolves when it has exited (at once if it has). */
export async function signalAndWait(
  child: ChildProcess | undefined,
  signal: NodeJS.Signals,
): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}
