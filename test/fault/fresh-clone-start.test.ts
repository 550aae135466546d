import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { stripVTControlCharacters } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceDirFor } from '../../src/core/database/root-postgres.js';
import { reapOnExit } from '../harness/child-reaper.js';
import { eventually, freePort } from '../harness/ports.js';

const asRoot = process.getuid?.() === 0;

/**
 * What a newcomer does on a fresh machine as root: clone into a directory only root may enter,
 * install, `npm start` with no environment at all. Without DATABASE_URL the service runs an
 * embedded Postgres, which as root must run as another user; that user cannot enter the clone.
 * Root only: as any other user the server runs as that user, and the problem cannot occur.
 */
describe.skipIf(!asRoot)(
  'fresh clone, npm start as root in a 0700 directory (root only: the problem needs root)',
  () => {
    let dir: string;
    let app: string;
    let env: Record<string, string>;
    let databaseDir = '';
    const runs: Run[] = [];

    const start = async (command: string[]): Promise<Run> => {
      const run = new Run(command, app, env);
      runs.push(run);
      await run.ready(env.PORT);
      databaseDir = run.databaseDir();
      return run;
    };
    const marker = async (create: boolean): Promise<boolean> => {
      const port = runs.at(-1)!.databasePort();
      const client = new pg.Client(`postgres://postgres:pdeck-dev@127.0.0.1:${port}/pdeck`);
      await client.connect();
      try {
        if (create) await client.query('CREATE TABLE fresh_clone_marker (id int)');
        const { rows } = await client.query("SELECT to_regclass('fresh_clone_marker') AS t");
        return rows[0].t !== null;
      } finally {
        await client.end();
      }
    };

    beforeAll(async () => {
      const repo = execFileSync('git', ['rev-parse', '--show-toplevel'], {
        cwd: process.cwd(),
        encoding: 'utf8',
      }).trim();
      dir = await mkdtemp(join(tmpdir(), 'pdeck-fresh-clone-'));
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
      app = join(dir, 'app');
      // The committed HEAD, as a clone gets it: uncommitted changes of the working tree are not in it.
      execFileSync('git', ['clone', '--quiet', repo, app]);
      // The README says `npm ci`; a hard-linked copy of the installed tree gives the same files in a
      // second instead of a minute of downloads and install scripts.
      execFileSync('cp', ['-al', join(repo, 'node_modules'), join(app, 'node_modules')]);
      // Nothing but PATH and HOME; PORT only because 3000 may be taken by another test run.
      env = {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        PORT: `${await freePort()}`,
      };
    });

    afterAll(async () => {
      for (const run of runs) run.killAll();
      for (const pid of processesInside(databaseDir)) process.kill(pid, 'SIGKILL');
      if (dir) await rm(dir, { recursive: true, force: true });
      // The data directory lives outside the clone: <base>/<hash>/postgres.
      if (databaseDir && !databaseDir.startsWith(`${dir}/`)) {
        await rm(dirname(databaseDir), { recursive: true, force: true });
      }
    });

    it('npm start answers /health/ready, keeps Postgres outside the clone, and stops it on SIGTERM', async () => {
      const startedAt = Date.now();
      const run = await start(['npm', 'start']);
      const readyMs = Date.now() - startedAt;
      const expected = join(instanceDirFor(await realpath(join(app, '.data'))), 'postgres');
      expect(databaseDir).toBe(expected);
      const data = await stat(databaseDir);
      expect(data.uid).not.toBe(0);
      expect(data.mode & 0o777).toBe(0o700);
      expect(await marker(true)).toBe(true);
      expect(processesInside(databaseDir).length).toBeGreaterThan(0);

      // As a terminal delivers Ctrl-C: to the whole foreground process group (npm, sh, node). A
      // signal to npm alone reaches only the shell npm started, not the service.
      const stoppedAt = Date.now();
      await run.signalGroup('SIGTERM');
      expect(run.lines.some((l) => l.includes('SIGTERM received: shutting down gracefully'))).toBe(
        true,
      );
      // No stack trace anywhere in the output.
      expect(run.lines.filter((l) => /^\s+at .+:\d+:\d+\)?$/.test(l))).toEqual([]);
      expect(processesInside(databaseDir)).toEqual([]);
      // A clean shutdown removes the lock file; a killed server would have left it.
      expect(existsSync(join(databaseDir, 'postmaster.pid'))).toBe(false);
      console.log(
        `[figures] fresh clone as root: npm start (nest build included) ready in ${readyMs} ms; stopped ${Date.now() - stoppedAt} ms after SIGTERM`,
      );
    });

    it('restarts on the same data; a start after a SIGKILL stops the Postgres the killed run left', async () => {
      const first = await start(['node', 'dist/main.js']);
      expect(await marker(false)).toBe(true);
      const postmaster = Number.parseInt(readFileSync(join(databaseDir, 'postmaster.pid'), 'utf8'));
      await first.signalGroup('SIGKILL');
      // The server outlived its service and still holds the data directory.
      expect(processesInside(databaseDir)).toContain(postmaster);

      const second = await start(['node', 'dist/main.js']);
      expect(second.lines.some((l) => l.includes('left running by an earlier run'))).toBe(true);
      expect(processesInside(databaseDir)).not.toContain(postmaster);
      expect(await marker(false)).toBe(true);
      await second.signalGroup('SIGKILL');
    });

    it('starts after the service and its Postgres were both killed (stale postmaster.pid)', async () => {
      for (const pid of processesInside(databaseDir)) process.kill(pid, 'SIGKILL');
      await eventually(
        () => (processesInside(databaseDir).length === 0 ? true : undefined),
        'the killed postgres processes to end',
      );
      expect(existsSync(join(databaseDir, 'postmaster.pid'))).toBe(true);

      const run = await start(['node', 'dist/main.js']);
      expect(await marker(false)).toBe(true);
      const exit = await run.signalGroup('SIGTERM');
      expect(exit).toEqual({ code: 0, signal: null });
      expect(processesInside(databaseDir)).toEqual([]);
    });
  },
);

/** One start of the service in the clone, in its own process group, with its output captured. */
class Run {
  readonly lines: string[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(command: string[], cwd: string, env: Record<string, string>) {
    this.child = reapOnExit(
      spawn(command[0], command.slice(1), {
        cwd,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    // The reaper kills the child; the group also holds the shell and node that npm starts.
    const pgid = this.child.pid!;
    process.once('exit', () => killGroup(pgid));
    this.exited = new Promise((done) =>
      this.child.once('exit', (code, signal) => done({ code, signal })),
    );
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      // Nest colours its console lines even without a terminal.
      createInterface({ input: stream }).on('line', (line) =>
        this.lines.push(stripVTControlCharacters(line)),
      );
    }
  }

  async ready(port: string): Promise<void> {
    const outcome = await eventually(
      async () => {
        if (this.child.exitCode !== null || this.child.signalCode !== null) return 'exited';
        const res = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined);
        return res?.status === 200 ? 'ready' : undefined;
      },
      'GET /health/ready to answer 200',
      90_000,
      250,
    ).catch((error: Error) => error.message);
    if (outcome !== 'ready') {
      throw new Error(`${outcome}: not ready; output:\n${this.lines.slice(-30).join('\n')}`);
    }
  }

  /** "...started an embedded Postgres with its data in <dir> (127.0.0.1:<port>)" */
  private embeddedLine(): RegExpExecArray {
    for (const line of this.lines) {
      const match = /with its data in (\S+) \(127\.0\.0\.1:(\d+)\)/.exec(line);
      if (match) return match;
    }
    throw new Error(`no embedded Postgres line in:\n${this.lines.join('\n')}`);
  }

  databaseDir(): string {
    return this.embeddedLine()[1];
  }

  databasePort(): number {
    return Number(this.embeddedLine()[2]);
  }

  /** Signals every process of the group and waits until all of them have exited. */
  async signalGroup(
    signal: NodeJS.Signals,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const pgid = this.child.pid!;
    killGroup(pgid, signal);
    const exit = await this.exited;
    await eventually(
      () => (groupMembers(pgid).length === 0 ? true : undefined),
      `process group ${pgid} to end after ${signal}`,
      70_000,
    );
    return exit;
  }

  killAll(): void {
    killGroup(this.child.pid!);
  }
}

function killGroup(pgid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is gone already
  }
}

/** Live (non-zombie) processes of a process group. */
function groupMembers(pgid: number): number[] {
  return livePids().filter((pid) => {
    const fields = statFields(pid);
    return fields !== undefined && fields[0] !== 'Z' && Number(fields[2]) === pgid;
  });
}

/** Postgres processes (postmaster and backends) work inside their data directory. */
function processesInside(databaseDir: string): number[] {
  if (!databaseDir) return [];
  return livePids().filter((pid) => {
    try {
      return statFields(pid)?.[0] !== 'Z' && readlinkSync(`/proc/${pid}/cwd`) === databaseDir;
    } catch {
      return false;
    }
  });
}

function livePids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

/** Fields of /proc/<pid>/stat after "(comm)": state, ppid, pgrp, ... */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
