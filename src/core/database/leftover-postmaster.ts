import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { Logger } from '@nestjs/common';

const logger = new Logger('EmbeddedPostgres');

/**
 * A server from an earlier run of this checkout may still be running: a service killed with
 * SIGKILL cannot stop the server it started, and that server keeps the data directory locked.
 * Such a leftover (its parent is no longer the service recorded in `ownerFile`) is shut down; a
 * server whose parent is that live service is left alone and reported. A postmaster.pid whose
 * process is gone needs nothing: postgres replaces such a stale lock file itself.
 */
export async function stopLeftoverPostmaster(
  databaseDir: string,
  ownerFile: string,
): Promise<void> {
  const lockFile = `${databaseDir}/postmaster.pid`;
  const pid = await readPid(lockFile);
  if (pid === undefined) return;
  if (!runsInside(pid, databaseDir)) {
    // Postgres discards a lock file whose pid is gone, but not one whose pid now belongs to another
    // process of the same account (pids are reused, in a container after every restart). With no
    // process at all inside the data directory, the lock is stale whatever its pid says.
    if (!anyProcessIn(databaseDir)) await rm(lockFile, { force: true });
    return;
  }
  const owner = await readPid(ownerFile);
  if (owner !== undefined && processState(pid)?.parent === owner) {
    throw new Error(
      `its data directory ${databaseDir} is in use by another running service process (pid ${owner}); stop that one first`,
    );
  }
  logger.warn(`Stopping an embedded Postgres (pid ${pid}) left running by an earlier run`);
  // Fast shutdown first (a clean stop, no recovery at the next start), then harder.
  const steps = [
    ['SIGINT', 30_000],
    ['SIGQUIT', 10_000],
    ['SIGKILL', 5_000],
  ] as const;
  for (const [signal, ms] of steps) {
    try {
      process.kill(pid, signal);
    } catch {
      return; // already gone
    }
    if (await exits(pid, ms)) return;
  }
  throw new Error(`a server left running by an earlier run (pid ${pid}) would not stop`);
}

async function readPid(file: string): Promise<number | undefined> {
  const pid = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * True when `pid` is alive with the data directory as its working directory: postgres processes
 * change into it at startup, and nothing else has reason to.
 */
function runsInside(pid: number, databaseDir: string): boolean {
  try {
    const state = processState(pid);
    return !!state && state.code !== 'Z' && readlinkSync(`/proc/${pid}/cwd`) === databaseDir;
  } catch {
    return false; // no such process, or no /proc: postgres's own lock-file check applies
  }
}

/** True when some live process (a postmaster or a backend) works inside the data directory. */
function anyProcessIn(databaseDir: string): boolean {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return true; // no /proc: cannot tell, leave the lock file to postgres
  }
  return pids.some((pid) => runsInside(Number(pid), databaseDir));
}

/** State letter and parent pid from /proc/<pid>/stat; undefined when the process is gone. */
function processState(pid: number): { code: string; parent: number } | undefined {
  try {
    // "pid (comm) state ppid ...": comm may contain spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [code, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { code, parent: Number(parent) };
  } catch {
    return undefined;
  }
}

/** Waits up to `ms` for `pid` to end (a zombie counts as ended: it only awaits its reaper). */
async function exits(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const state = processState(pid);
    if (!state || state.code === 'Z') return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}
