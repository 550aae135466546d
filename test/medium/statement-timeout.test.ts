import pg from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ENTITIES } from '../../src/app.entities.js';
import { buildDataSourceOptions } from '../../src/core/database/data-source-options.js';
import { MIGRATIONS } from '../../src/core/database/migrations.js';
import { runMigrationsLocked } from '../../src/core/database/run-migrations.js';
import { LOCK_USER_FEED_SQL } from '../../src/items/item-page.sql.js';
import { eventually } from '@pdeck/integration-sdk/testing';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/** Short, so the tests wait little; the service's default is 30 s. */
const TIMEOUT_MS = 300;
/** The migration lock of run-migrations.ts ("PDeck migrations"). */
const MIGRATION_LOCK_ID = 0x5044_4d49;
const QUERY_CANCELED = '57014';

/**
 * DATABASE_STATEMENT_TIMEOUT_MS on real Postgres: a statement stuck on a lock or running away is
 * cancelled, a session idle inside a transaction is ended (its advisory locks go with it), and
 * migrations, which may legitimately run long, are not subject to it.
 */
describe('statement_timeout on the service connections', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let holder: pg.Client;

  const errorCode = (p: Promise<unknown>) =>
    p.then(
      () => 'no error',
      (e: unknown) =>
        (e as { driverError?: { code?: string }; code?: string }).driverError?.code ??
        (e as { code?: string }).code,
    );

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    ds = await new DataSource(buildDataSourceOptions(db.url, ENTITIES, 3, TIMEOUT_MS)).initialize();
  });
  afterAll(async () => {
    await holder?.end().catch(() => undefined);
    await ds?.destroy();
    await db?.drop();
  });

  it('runs migrations without the timeout, also while waiting for another instance', async () => {
    // Another instance holds the migration lock for several times the statement timeout.
    await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    const running = runMigrationsLocked(ds);
    await eventually(async () => {
      const rows = await holder.query(
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
      );
      return rows.rows[0].n > 0 ? true : undefined;
    }, 'the migration runner to wait on the lock');
    await holder.query('SELECT pg_sleep($1)', [(3 * TIMEOUT_MS) / 1000]);
    await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    expect(await running).toEqual(MIGRATIONS.map((m) => m.name));
    // The pooled connection the migrations used is back to the pool's timeout.
    const settings = await Promise.all(
      Array.from({ length: 3 }, () =>
        ds.query<{ statement_timeout: string }[]>('SHOW statement_timeout'),
      ),
    );
    for (const [row] of settings) expect(row.statement_timeout).toBe(`${TIMEOUT_MS}ms`);
  });

  it('cancels a statement that runs longer than the timeout', async () => {
    expect(await errorCode(ds.query('SELECT pg_sleep(5)'))).toBe(QUERY_CANCELED);
  });

  it('cancels a writer waiting on a user feed lock that another transaction holds', async () => {
    await holder.query('BEGIN');
    await holder.query(LOCK_USER_FEED_SQL, ['user-locked']);
    try {
      const waited = ds.transaction((m) => m.query(LOCK_USER_FEED_SQL, ['user-locked']));
      expect(await errorCode(waited)).toBe(QUERY_CANCELED);
    } finally {
      await holder.query('COMMIT');
    }
    // Nothing is left held: the lock is free for the next writer.
    await ds.transaction((m) => m.query(LOCK_USER_FEED_SQL, ['user-locked']));
  });

  it('ends a session that sits idle inside a transaction, releasing its advisory locks', async () => {
    const runner = ds.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      await runner.query(LOCK_USER_FEED_SQL, ['user-idle']);
      // The holder (no timeout of its own) gets the lock once Postgres ended the idle session.
      await eventually(
        async () => {
          await holder.query('BEGIN');
          try {
            const { rows } = await holder.query(
              "SELECT pg_try_advisory_xact_lock(hashtextextended('items-feed:' || $1, 0)) AS got",
              ['user-idle'],
            );
            return rows[0].got ? true : undefined;
          } finally {
            await holder.query('COMMIT');
          }
        },
        'the idle transaction to be ended',
        { timeoutMs: 10_000 },
      );
    } finally {
      await runner.release().catch(() => undefined);
    }
  });
});
