import { type DataSource, MigrationExecutor } from 'typeorm';

/** Arbitrary constant shared by every instance: "PDeck migrations". */
const MIGRATION_LOCK_ID = 0x5044_4d49;

/**
 * Runs pending migrations while holding a session-level Postgres advisory lock, so several
 * instances starting at once apply each migration exactly once: the others wait, then find
 * nothing pending.
 *
 * The pool's connections carry `statement_timeout` (DATABASE_STATEMENT_TIMEOUT_MS), which would
 * cut off a long migration (an index on a large table) or the wait for another instance's lock.
 * So the lock, the wait and every migration run on one connection with both timeouts switched
 * off for its session, and restored before it goes back to the pool.
 */
export async function runMigrationsLocked(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  let locked = false;
  try {
    await runner.query('SET statement_timeout = 0');
    await runner.query('SET idle_in_transaction_session_timeout = 0');
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    locked = true;
    const executor = new MigrationExecutor(dataSource, runner);
    executor.transaction = 'each';
    const applied = await executor.executePendingMigrations();
    return applied.map((m) => m.name);
  } finally {
    if (locked) {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => {});
    }
    // Back to the values of the connection's startup packet (the pool's timeouts).
    await runner.query('RESET statement_timeout').catch(() => undefined);
    await runner.query('RESET idle_in_transaction_session_timeout').catch(() => undefined);
    await runner.release();
  }
}
