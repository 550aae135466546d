import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { ResolvedAppConfig } from '../../src/core/config/app-config.js';
import { parseConfig } from '../../src/core/config/load-config.js';
import { MetricsService } from '../../src/core/metrics/metrics.service.js';
import { SyncRunsRetentionService } from '../../src/sync/sync-runs-retention.service.js';
import { SyncRunsService } from '../../src/sync/sync-runs.service.js';
import { WebhookDelivery } from '../../src/webhooks/entities/webhook-delivery.entity.js';
import { WebhookDeliveriesService } from '../../src/webhooks/webhook-deliveries.service.js';
import { WebhookRetentionService } from '../../src/webhooks/webhook-retention.service.js';
import { type MigratedDatabase, openMigratedDatabase } from '../support/items-fixtures.js';

function configWith(env: Record<string, string> = {}): ResolvedAppConfig {
  return { ...parseConfig(env), databaseUrl: 'postgres://unused' };
}

async function counterValue(metrics: MetricsService, table: string, action: string) {
  const metric = await metrics.retentionRows.get();
  return metric.values.find((v) => v.labels.table === table && v.labels.action === action)?.value;
}

describe('webhook_deliveries retention on real Postgres', () => {
  let db: MigratedDatabase;
  let deliveries: WebhookDeliveriesService;

  beforeAll(async () => {
    db = await openMigratedDatabase(inject('databaseUrl'), 4);
    deliveries = new WebhookDeliveriesService(db.dataSource.getRepository(WebhookDelivery));
  });
  beforeEach(async () => {
    await db.dataSource.query('DELETE FROM webhook_deliveries');
  });
  afterAll(async () => {
    await db?.close();
  });

  /**
   * A row finished `ageDays` ago (arrived `receivedDaysAgo` ago, default an hour before), with a
   * body; a `received` row arrived `ageDays` ago and is not finished.
   */
  async function seed(
    key: string,
    status: string,
    ageDays: number,
    receivedDaysAgo = ageDays + 1 / 24,
  ): Promise<void> {
    await db.dataSource.query(
      `INSERT INTO webhook_deliveries (id, provider, delivery_id, status, body, received_at, processed_at)
       VALUES ($1, 'test-hooks', $2, $3, $4, now() - make_interval(hours => $6::int),
         CASE WHEN $3 = 'received' THEN NULL ELSE now() - make_interval(hours => $5::int) END)`,
      [
        randomUUID(),
        key,
        status,
        `{"key":"${key}"}`,
        Math.round(ageDays * 24),
        Math.round((status === 'received' ? ageDays : receivedDaysAgo) * 24),
      ],
    );
  }

  async function state(): Promise<Map<string, string | null>> {
    const rows: { delivery_id: string; body: string | null }[] = await db.dataSource.query(
      'SELECT delivery_id, body FROM webhook_deliveries',
    );
    return new Map(rows.map((r) => [r.delivery_id, r.body]));
  }

  it('strips bodies of finished rows after the body window, deletes them after the delivery window, never touches a waiting row', async () => {
    const finished = ['processed', 'ignored', 'unroutable', 'failed'];
    for (const status of finished) {
      await seed(`old-${status}`, status, 31); // past both windows (7 and 30 days)
      await seed(`mid-${status}`, status, 8); // past the body window only
      await seed(`recent-${status}`, status, 6); // inside both
    }
    // Arrived 40 days ago but finished yesterday (stuck, then swept): the windows count from
    // the finish, so it keeps its body.
    await seed('late-processed', 'processed', 1, 40);
    // Still waiting after two months (its job lost, say): neither stripped nor deleted.
    await seed('waiting-old', 'received', 60);
    await seed('waiting-recent', 'received', 0);

    const metrics = new MetricsService();
    const retention = new WebhookRetentionService(deliveries, metrics, configWith());
    expect(await retention.run()).toEqual({ deleted: 4, stripped: 4 });

    const rows = await state();
    for (const status of finished) {
      expect(rows.has(`old-${status}`), `old-${status} deleted`).toBe(false);
      expect(rows.get(`mid-${status}`), `mid-${status} stripped`).toBeNull();
      expect(rows.get(`recent-${status}`)).toBe(`{"key":"recent-${status}"}`);
    }
    expect(rows.get('late-processed')).toBe('{"key":"late-processed"}');
    expect(rows.get('waiting-old')).toBe('{"key":"waiting-old"}');
    expect(rows.get('waiting-recent')).toBe('{"key":"waiting-recent"}');
    expect(rows.size).toBe(4 * 2 + 3);
    expect(await counterValue(metrics, 'webhook_deliveries', 'deleted')).toBe(4);
    expect(await counterValue(metrics, 'webhook_deliveries', 'stripped')).toBe(4);

    // A second pass finds nothing left to do.
    expect(await retention.run()).toEqual({ deleted: 0, stripped: 0 });
  });

  it('follows the configured windows', async () => {
    await seed('two-days', 'processed', 2);
    await seed('four-days', 'processed', 4);
    await seed('half-day', 'processed', 0.5);
    const config = configWith({
      WEBHOOK_BODY_RETENTION_DAYS: '1',
      WEBHOOK_DELIVERY_RETENTION_DAYS: '3',
    });
    const retention = new WebhookRetentionService(deliveries, new MetricsService(), config);
    expect(await retention.run()).toEqual({ deleted: 1, stripped: 1 });
    const rows = await state();
    expect([...rows.keys()].sort()).toEqual(['half-day', 'two-days']);
    expect(rows.get('two-days')).toBeNull();
    expect(rows.get('half-day')).toBe('{"key":"half-day"}');
  });

  it('works through more rows than one statement takes (5,000 per statement)', async () => {
    await db.dataSource.query(
      `INSERT INTO webhook_deliveries (id, provider, delivery_id, status, body, processed_at)
       SELECT gen_random_uuid(), 'test-hooks', 'bulk-' || n, 'processed', '{}',
         now() - interval '40 days'
       FROM generate_series(1, 11000) AS n`,
    );
    await seed('recent', 'processed', 1);
    const retention = new WebhookRetentionService(deliveries, new MetricsService(), configWith());
    expect(await retention.run()).toEqual({ deleted: 11_000, stripped: 0 });
    expect([...(await state()).keys()]).toEqual(['recent']);
  });
});

describe('sync_runs retention on real Postgres', () => {
  let db: MigratedDatabase;
  let runs: SyncRunsService;

  beforeAll(async () => {
    db = await openMigratedDatabase(inject('databaseUrl'), 4);
    runs = new SyncRunsService(db.dataSource);
  });
  beforeEach(async () => {
    await db.dataSource.query('DELETE FROM sync_runs');
  });
  afterAll(async () => {
    await db?.close();
  });

  async function seed(
    connectionId: string,
    key: string,
    ageDays: number,
    status = 'succeeded',
  ): Promise<void> {
    await db.dataSource.query(
      `INSERT INTO sync_runs (id, connection_id, mode, trigger, status, error_message, created_at)
       VALUES ($1, $2, 'incremental', 'schedule', $3, $4, now() - make_interval(hours => $5::int))`,
      [randomUUID(), connectionId, status, key, Math.round(ageDays * 24)],
    );
  }

  /** A connection row for runs to belong to. */
  async function newConnection(): Promise<string> {
    const id = randomUUID();
    await db.dataSource.query(
      `INSERT INTO connections (id, user_id, provider, account_id) VALUES ($1, 'user-runs', 'test-hooks', $2)`,
      [id, id],
    );
    return id;
  }

  /** Remaining runs by key (the key rides in error_message). */
  async function remaining(): Promise<string[]> {
    const rows: { error_message: string }[] = await db.dataSource.query(
      'SELECT error_message FROM sync_runs ORDER BY error_message',
    );
    return rows.map((r) => r.error_message);
  }

  it('deletes a run only when it is older than the window and not among the last N of its connection, never a queued or running one', async () => {
    const busy = await newConnection();
    for (let day = 1; day <= 5; day++) await seed(busy, `busy-recent-${day}`, day);
    await seed(busy, 'busy-old-succeeded', 40);
    await seed(busy, 'busy-old-running', 41, 'running');
    await seed(busy, 'busy-old-queued', 42, 'queued');
    await seed(busy, 'busy-old-failed', 50, 'failed');
    await seed(busy, 'busy-old-partial', 51, 'partial');
    // A quiet connection: all its runs are old, the newest 3 stay whatever their age.
    const quiet = await newConnection();
    for (let n = 0; n < 5; n++) await seed(quiet, `quiet-old-${n}`, 100 + n);
    const lone = await newConnection();
    await seed(lone, 'lone-old', 365);

    const metrics = new MetricsService();
    const config = configWith({ SYNC_RUN_RETENTION_COUNT: '3', SYNC_RUN_RETENTION_DAYS: '30' });
    const retention = new SyncRunsRetentionService(runs, metrics, config);
    expect(await retention.run()).toEqual({ deleted: 5 });

    expect(await remaining()).toEqual(
      [
        ...[1, 2, 3, 4, 5].map((d) => `busy-recent-${d}`),
        'busy-old-queued',
        'busy-old-running',
        'lone-old',
        'quiet-old-0',
        'quiet-old-1',
        'quiet-old-2',
      ].sort(),
    );
    expect(await counterValue(metrics, 'sync_runs', 'deleted')).toBe(5);
    expect(await retention.run()).toEqual({ deleted: 0 });
  });

  it('keeps the default 100 newest runs of a connection even when all are old', async () => {
    const connection = await newConnection();
    await db.dataSource.query(
      `INSERT INTO sync_runs (id, connection_id, mode, trigger, status, error_message, created_at)
       SELECT gen_random_uuid(), $1, 'incremental', 'schedule', 'succeeded',
         'run-' || lpad(n::text, 3, '0'), now() - interval '60 days' - make_interval(mins => n)
       FROM generate_series(1, 130) AS n`,
      [connection],
    );
    const retention = new SyncRunsRetentionService(runs, new MetricsService(), configWith());
    expect(await retention.run()).toEqual({ deleted: 30 });
    const left = await remaining();
    expect(left).toHaveLength(100);
    // The newest 100 are the smallest offsets.
    expect(left[0]).toBe('run-001');
    expect(left[99]).toBe('run-100');
  });

  it('walks every connection and more runs than one statement takes', async () => {
    // 450 connections (more than one round of 200) with 5 old runs each, plus one connection
    // with 6,000 old runs (more than one statement of 5,000).
    await db.dataSource.query(
      `WITH c AS (
         INSERT INTO connections (id, user_id, provider, account_id)
         SELECT id, 'user-runs', 'test-hooks', id::text
         FROM (SELECT gen_random_uuid() AS id FROM generate_series(1, 450)) AS ids
         RETURNING id)
       INSERT INTO sync_runs (id, connection_id, mode, trigger, status, created_at)
       SELECT gen_random_uuid(), c.id, 'full', 'schedule', 'succeeded',
         now() - interval '40 days' - make_interval(mins => n)
       FROM c, generate_series(1, 5) AS n`,
    );
    const big = await newConnection();
    await db.dataSource.query(
      `INSERT INTO sync_runs (id, connection_id, mode, trigger, status, created_at)
       SELECT gen_random_uuid(), $1, 'full', 'schedule', 'succeeded',
         now() - interval '40 days' - make_interval(secs => n)
       FROM generate_series(1, 6000) AS n`,
      [big],
    );
    const config = configWith({ SYNC_RUN_RETENTION_COUNT: '3' });
    const retention = new SyncRunsRetentionService(runs, new MetricsService(), config);
    expect(await retention.run()).toEqual({ deleted: 450 * 2 + 5_997 });
    const [{ n, connections, most }] = await db.dataSource.query(
      `SELECT count(*)::int AS n, count(DISTINCT connection_id)::int AS connections,
         max(per)::int AS most
       FROM (SELECT connection_id, count(*) OVER (PARTITION BY connection_id) AS per
             FROM sync_runs) r`,
    );
    expect({ n, connections, most }).toEqual({ n: 451 * 3, connections: 451, most: 3 });
  });
});
