import type { DataSource } from 'typeorm';

/** Arbitrary constant shared by every instance: "PDeck migrations". */
const MIGRATION_LOCK_ID = 0x5044_4d49;

/**
 * Runs pending migrations while holding a session-level Postgres advisory lock, so several
 * instances starting at once apply each migration exactly once: the others wait, then find
 * nothing pending.
 */
export async function runMigrationsLocked(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
    await runner.release();
  }
}
