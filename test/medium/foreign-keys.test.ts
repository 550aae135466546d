import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { appDataSourceOptions } from '../../src/app.entities.js';
import { MIGRATIONS } from '../../src/core/database/migrations.js';
import { ForeignKeys1796800000000 } from '../../src/core/database/migrations/1796800000000-foreign-keys.js';
import { runMigrationsLocked } from '../../src/core/database/run-migrations.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/** The connection-owned tables and the item links, as the foreign-key migration found them. */
async function seed(ds: DataSource, connectionId: string, userId: string): Promise<string[]> {
  await ds.query(
    `INSERT INTO sync_states (id, connection_id, resource_id) VALUES ($1, $2, 'cal-1')`,
    [randomUUID(), connectionId],
  );
  await ds.query(`INSERT INTO sync_runs (id, connection_id, mode) VALUES ($1, $2, 'full')`, [
    randomUUID(),
    connectionId,
  ]);
  await ds.query(
    `INSERT INTO webhook_subscriptions (id, connection_id, provider, resource_id, external_id, callback_url)
     VALUES ($1, $2, 'google-calendar', 'cal-1', $3, 'http://127.0.0.1/hook')`,
    [randomUUID(), connectionId, `channel-${connectionId}`],
  );
  const items = [randomUUID(), randomUUID()];
  for (const [n, id] of items.entries()) {
    await ds.query(
      `INSERT INTO items (id, user_id, connection_id, provider, kind, external_id, external_version, change_seq)
       VALUES ($1, $2, $3, 'google-calendar', 'event', $4, '1', nextval('items_change_seq'))`,
      [id, userId, connectionId, `evt-${n}`],
    );
  }
  return items;
}

async function connection(ds: DataSource, userId: string): Promise<string> {
  const id = randomUUID();
  await ds.query(
    `INSERT INTO connections (id, user_id, provider, account_id) VALUES ($1, $2, 'google-calendar', $3)`,
    [id, userId, `account-${id}`],
  );
  return id;
}

const count = async (ds: DataSource, table: string, connectionId: string): Promise<number> => {
  const [{ n }] = await ds.query(
    `SELECT count(*)::int AS n FROM "${table}" WHERE connection_id = $1`,
    [connectionId],
  );
  return n;
};

const OWNED = ['sync_states', 'sync_runs', 'webhook_subscriptions', 'items'];

describe('foreign keys with ON DELETE CASCADE (migration ForeignKeys1796800000000)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let kept: string;
  let keptItems: string[];
  let orphan: string;

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'));
    // An older database: every migration before the foreign keys, with orphans already in it.
    const before = MIGRATIONS.slice(0, MIGRATIONS.indexOf(ForeignKeys1796800000000));
    const old = await new DataSource({
      ...appDataSourceOptions(db.url, 2),
      migrations: before,
    }).initialize();
    try {
      await runMigrationsLocked(old);
      kept = await connection(old, 'user-kept');
      keptItems = await seed(old, kept, 'user-kept');
      orphan = randomUUID(); // its connection row was deleted long ago
      const orphanItems = await seed(old, orphan, 'user-gone');
      await old.query(
        `INSERT INTO item_links (id, item_id, linked_item_id, reason) VALUES
           ($1, $3, $4, 'kept'), ($2, $3, $5, 'to an orphan item')`,
        [randomUUID(), randomUUID(), keptItems[0], keptItems[1], orphanItems[0]],
      );
    } finally {
      await old.destroy();
    }
    ds = await new DataSource(appDataSourceOptions(db.url, 2)).initialize();
    await runMigrationsLocked(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('deletes the rows an older database had left without their parent, and keeps the rest', async () => {
    for (const table of OWNED) {
      expect(await count(ds, table, orphan), table).toBe(0);
      expect(await count(ds, table, kept), table).toBeGreaterThan(0);
    }
    const links = await ds.query('SELECT reason FROM item_links');
    expect(links).toEqual([{ reason: 'kept' }]);
  });

  it('declares validated constraints', async () => {
    const rows = await ds.query<{ conname: string; convalidated: boolean; confdeltype: string }[]>(
      "SELECT conname, convalidated, confdeltype FROM pg_constraint WHERE contype = 'f' AND conname LIKE 'fk_%' ORDER BY conname",
    );
    expect(rows.map((r) => r.conname)).toEqual(
      expect.arrayContaining([
        'fk_item_links_item',
        'fk_item_links_linked_item',
        'fk_items_connection',
        'fk_sync_runs_connection',
        'fk_sync_states_connection',
        'fk_webhook_subscriptions_connection',
      ]),
    );
    for (const r of rows)
      expect(r, r.conname).toMatchObject({ convalidated: true, confdeltype: 'c' });
  });

  it('refuses a row for a connection that does not exist', async () => {
    await expect(
      ds.query(`INSERT INTO sync_runs (id, connection_id, mode) VALUES ($1, $2, 'full')`, [
        randomUUID(),
        randomUUID(),
      ]),
    ).rejects.toThrow(/fk_sync_runs_connection/);
  });

  it('takes everything a deleted connection owned with it, and links with their items', async () => {
    const gone = await connection(ds, 'user-cascade');
    const goneItems = await seed(ds, gone, 'user-cascade');
    // Both items of one user (the items' owner), smaller id first: what item_links requires.
    const [a, b] = [keptItems[0], goneItems[0]].sort();
    await ds.query(
      `INSERT INTO item_links (id, item_id, linked_item_id, reason, user_id, confidence, origin)
       VALUES ($1, $2, $3, 'cross', 'user-kept', 1, 'manual')`,
      [randomUUID(), a, b],
    );
    await ds.query('DELETE FROM connections WHERE id = $1', [gone]);
    for (const table of OWNED) expect(await count(ds, table, gone), table).toBe(0);
    expect(await ds.query('SELECT reason FROM item_links ORDER BY reason')).toEqual([
      { reason: 'kept' },
    ]);
    // The other connection is untouched.
    for (const table of OWNED) expect(await count(ds, table, kept), table).toBeGreaterThan(0);
  });
});
