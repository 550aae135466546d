import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { appDataSourceOptions } from '../../src/app.entities.js';
import { runMigrationsLocked } from '../../src/core/database/run-migrations.js';
import { ItemsRepository, type PageWriteResult } from '../../src/items/items.repository.js';
import type { ItemDeletion, NormalizedItem } from '@pdeck/integration-sdk';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export interface MigratedDatabase {
  dataSource: DataSource;
  database: TestDatabase;
  close(): Promise<void>;
}

/** A fresh database with every migration applied, as the app sees it. */
export async function openMigratedDatabase(
  adminUrl: string,
  poolSize = 10,
): Promise<MigratedDatabase> {
  const database = await createTestDatabase(adminUrl);
  const dataSource = await new DataSource(
    appDataSourceOptions(database.url, poolSize),
  ).initialize();
  await runMigrationsLocked(dataSource);
  return {
    dataSource,
    database,
    close: async () => {
      await dataSource.destroy();
      await database.drop();
    },
  };
}

/** A Google-Calendar-like event; versions are fixed-width so text order is numeric order. */
export function makeItem(n: number, overrides: Partial<NormalizedItem> = {}): NormalizedItem {
  const start = new Date(Date.UTC(2026, 11, 1, 9, 0, 0) + n * 3_600_000);
  return {
    kind: 'event',
    externalId: `cal-1/evt-${n}`,
    containerId: 'cal-1',
    containerName: 'Team calendar',
    title: `Meeting ${n}`,
    body: `Agenda ${n}`,
    status: 'confirmed',
    startsAt: start,
    endsAt: new Date(start.getTime() + 1_800_000),
    allDay: false,
    dueAt: null,
    url: `https://calendar.example.test/e/${n}`,
    assignees: [`a${n}@example.com`],
    labels: ['work'],
    externalUpdatedAt: new Date(Date.UTC(2026, 10, 27)),
    externalVersion: version(1),
    raw: { id: `evt-${n}`, n },
    ...overrides,
  };
}

export function version(n: number): string {
  return String(n).padStart(20, '0');
}

export function newConnection(userId = `user-${randomUUID().slice(0, 8)}`): {
  userId: string;
  connectionId: string;
  provider: string;
} {
  return { userId, connectionId: randomUUID(), provider: 'google-calendar' };
}

export type TestConnection = ReturnType<typeof newConnection>;

/**
 * Stores the `connections` rows the test connections stand for: items (and sync states, runs,
 * subscriptions) reference their connection with a foreign key.
 */
export async function storeConnections(
  ds: Pick<DataSource, 'query'>,
  ...connections: TestConnection[]
): Promise<void> {
  for (const c of connections) {
    await ds.query(
      `INSERT INTO connections (id, user_id, provider, account_id)
       VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`,
      [c.connectionId, c.userId, c.provider, `account-${c.connectionId}`],
    );
  }
}

export interface ItemRow {
  external_id: string;
  container_id: string | null;
  title: string | null;
  author: string | null;
  external_version: string;
  change_seq: string;
  deleted_at: Date | null;
  seen_generation: number;
  updated_at: Date;
}

export interface ItemsHarness {
  db: MigratedDatabase;
  repo: ItemsRepository;
  /** A new connection of `userId` (a new user by default), stored. */
  connection(userId?: string): Promise<TestConnection>;
  /** One page in its own transaction, as the sync engine writes it. */
  write(
    conn: TestConnection,
    upserts: NormalizedItem[],
    deletions?: ItemDeletion[],
    generation?: number,
  ): Promise<PageWriteResult>;
  /** A connection's rows by external id. */
  rows(conn: TestConnection): Promise<Map<string, ItemRow>>;
  close(): Promise<void>;
}

export async function openItemsHarness(adminUrl: string): Promise<ItemsHarness> {
  const db = await openMigratedDatabase(adminUrl);
  const repo = new ItemsRepository(db.dataSource);
  return {
    db,
    repo,
    connection: async (userId) => {
      const conn = newConnection(userId);
      await storeConnections(db.dataSource, conn);
      return conn;
    },
    write: (conn, upserts, deletions = [], generation) =>
      db.dataSource.transaction((m) =>
        repo.upsertPage(m, { ...conn, upserts, deletions, generation }),
      ),
    rows: async (conn) => {
      const list = await db.dataSource.query<ItemRow[]>(
        `SELECT external_id, container_id, title, author, external_version,
          change_seq::text AS change_seq,
          deleted_at, seen_generation, updated_at FROM items WHERE connection_id = $1`,
        [conn.connectionId],
      );
      return new Map(list.map((r) => [r.external_id, r]));
    },
    close: () => db.close(),
  };
}
