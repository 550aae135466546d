import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { appDataSourceOptions } from '../../src/app.entities.js';
import { Connection } from '../../src/auth/entities/connection.entity.js';
import { asEntities, entitySelect } from '../../src/core/database/entity-select.js';
import { runMigrationsLocked } from '../../src/core/database/run-migrations.js';
import { SyncState } from '../../src/sync/entities/sync-state.entity.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/** The hot-path reads return exactly what TypeORM's find would, column for column and type for type. */
describe('entitySelect reads', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    ds = await new DataSource(appDataSourceOptions(db.url, 2)).initialize();
    await runMigrationsLocked(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('a connection and its resource states, with every column type set', async () => {
    const id = randomUUID();
    await ds.query(
      `INSERT INTO connections (id, user_id, provider, account_id, account_label, status, scopes, credentials,
         token_version, token_expires_at, settings, site_id, last_error)
       VALUES ($1, 'u1', 'jira', 'acc', 'Ann', 'active', '{read,write}', 'v1:sealed', 3, now(),
         '{"jql": "project = X", "n": 2}', 'cloud-1', NULL)`,
      [id],
    );
    await ds.query(
      `INSERT INTO sync_states (id, connection_id, resource_id, resource_name, cursor, stage, generation, pass_start_seq, last_success_at)
       VALUES ($1, $2, 'b', 'Board B', '{"syncToken": "t"}', 'incremental', 4, 9007199254740993, now()),
              ($3, $2, 'a', NULL, NULL, 'full', 0, NULL, NULL)`,
      [randomUUID(), id, randomUUID()],
    );
    for (const [entity, where, order] of [
      [Connection, { id }, undefined],
      [SyncState, { connectionId: id }, { resourceId: 'ASC' }],
    ] as const) {
      const repo = ds.getRepository<object>(entity);
      const expected = await repo.find({ where, order });
      const column = entity === Connection ? 'id' : 'connection_id';
      const rows = await repo.query(
        `${entitySelect(repo)} WHERE ${column} = $1 ${entity === SyncState ? 'ORDER BY resource_id' : ''}`,
        [id],
      );
      const actual = asEntities(repo, rows);
      expect(actual.length).toBeGreaterThan(0);
      expect(actual).toStrictEqual(expected);
    }
  });
});
