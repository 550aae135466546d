import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { DataSource } from 'typeorm';
import { appDataSourceOptions } from '../../src/app.entities.js';
import { MIGRATIONS } from '../../src/core/database/migrations.js';
import { runMigrationsLocked } from '../../src/core/database/run-migrations.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

describe('migrations on a real Postgres', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
  });
  afterAll(async () => {
    await db.drop();
  });

  it('apply once when several instances start at the same time, and match the entities', async () => {
    const sources = await Promise.all(
      Array.from({ length: 4 }, () => new DataSource(appDataSourceOptions(db.url, 2)).initialize()),
    );
    try {
      const applied = await Promise.all(sources.map((ds) => runMigrationsLocked(ds)));
      // Exactly one instance applied each migration; the others waited on the lock.
      expect(applied.flat().sort()).toEqual(MIGRATIONS.map((m) => m.name).sort());
      const rows = await sources[0].query('SELECT name FROM migrations ORDER BY id');
      expect(rows.map((r: { name: string }) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
      // No drift between entities and migrations.
      const drift = await sources[0].driver.createSchemaBuilder().log();
      expect(drift.upQueries.map((q) => q.query)).toEqual([]);
      const tables = await sources[0].query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
      );
      expect(tables.map((t: { table_name: string }) => t.table_name)).toContain('connections');
    } finally {
      await Promise.all(sources.map((ds) => ds.destroy()));
    }
  });
});
