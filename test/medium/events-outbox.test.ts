import { randomBytes, randomUUID } from 'node:crypto';
import { getQueueToken } from '@nestjs/bullmq';
import type { TestingModule } from '@nestjs/testing';
import type { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ResolvedAppConfig } from '../../src/core/config/app-config.js';
import { EventOutboxStore } from '../../src/events/event-outbox.store.js';
import { PDECK_EVENTS_QUEUE } from '../../src/events/events.constants.js';
import type { ItemsChangedData, PdeckEventJob } from '../../src/events/pdeck-event.js';
import { PdeckNotifier } from '../../src/events/pdeck-notifier.service.js';
import { ItemsRepository } from '../../src/items/items.repository.js';
import { RedisInstance } from '../harness/redis-instance.js';
import { eventsTestConfig, PdeckReceiver, startEventsModule } from '../support/events-test-kit.js';
import { makeItem, newConnection, storeConnections } from '../support/items-fixtures.js';
import { until } from '@pdeck/integration-sdk/testing';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

function changed(n: number): ItemsChangedData {
  return {
    connectionId: randomUUID(),
    userId: `user-${n}`,
    provider: 'google-calendar',
    upserted: n,
    deleted: 0,
    fromChangeSeq: String(100 * n),
    toChangeSeq: String(100 * n + n - 1),
  };
}

/**
 * The transactional outbox of notifications to PDeck: an event is written with the change it
 * describes, survives a Redis outage in Postgres, and reaches PDeck once, under one id.
 */
describe('PDeck events through the outbox (real Postgres, real Redis, real HTTP)', () => {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const receiver = new PdeckReceiver(secret);
  // A Redis of this test's own, so it can go away without disturbing other test files.
  let redis: RedisInstance;
  let database: TestDatabase;
  let config: ResolvedAppConfig;
  let api: TestingModule | undefined;
  let worker: TestingModule | undefined;
  let db: DataSource;

  beforeAll(async () => {
    await receiver.start();
    redis = await new RedisInstance().start();
    database = await createTestDatabase(inject('databaseUrl'));
    config = eventsTestConfig(
      { PDECK_EVENTS_URL: receiver.url, PDECK_EVENTS_SECRET: secret, REDIS_URL: redis.url },
      database.url,
    );
    // An api process: records events, relays and delivers nothing.
    api = await startEventsModule(config, false);
    db = api.get(DataSource);
  });
  afterAll(async () => {
    if (redis && !redis.running) await redis.start().catch(() => undefined);
    await worker?.close();
    await api?.close();
    await receiver.stop();
    await redis?.destroy();
    await database?.drop();
  });

  const outboxIds = async (): Promise<string[]> =>
    (await db.query('SELECT id FROM event_outbox ORDER BY seq')).map((r: { id: string }) => r.id);
  const deliveredIds = (): string[] =>
    receiver.requests.filter((r) => r.answered === 200).map((r) => String(r.headers['webhook-id']));

  it('keeps an event whose queueing was interrupted, and sends it once under its row id', async () => {
    const data = changed(1);
    await db.transaction((m) => api!.get(PdeckNotifier).record(m, 'items.changed', data));
    const [id] = await outboxIds();
    expect(id).toMatch(/^evt_[0-9a-f-]{36}$/);
    // A relay that queued the row and died before deleting it: the job is in Redis, the row too.
    const runner = db.createQueryRunner();
    let events: PdeckEventJob[];
    try {
      await runner.startTransaction();
      events = await api!.get(EventOutboxStore).oldest(runner, 10);
      await api!.get(PdeckNotifier).enqueue(events);
      await runner.rollbackTransaction();
    } finally {
      await runner.release();
    }
    expect(events.map((e) => e.id)).toEqual([id]);
    expect(await outboxIds()).toEqual([id]);

    // A worker starts: its relay queues the row again (same job id) and deletes it.
    worker = await startEventsModule(config, true);
    const queue = worker.get<Queue>(getQueueToken(PDECK_EVENTS_QUEUE));
    await until(async () => (await outboxIds()).length === 0, 'the relay to empty the outbox');
    await until(async () => (await queue.getJobState(id)) === 'completed', 'the job to complete');

    expect(deliveredIds()).toEqual([id]);
    expect(receiver.requests).toHaveLength(1);
    expect(JSON.parse(receiver.requests[0].body)).toEqual({
      type: 'items.changed',
      timestamp: events[0].timestamp,
      data,
    });
    // One job for the event, none left to run.
    expect(await queue.getJobCounts('completed', 'waiting', 'delayed', 'active', 'failed')).toEqual(
      { completed: 1, waiting: 0, delayed: 0, active: 0, failed: 0 },
    );
  });

  it('commits an items.changed while Redis is down and delivers it once Redis is back, once', async () => {
    worker ??= await startEventsModule(config, true);
    const queue = worker.get<Queue>(getQueueToken(PDECK_EVENTS_QUEUE));
    const before = receiver.requests.length;
    await redis.kill();
    const data = changed(2);
    // The items transaction does not need Redis: it commits with its event.
    await db.transaction((m) => worker!.get(PdeckNotifier).record(m, 'items.changed', data));
    const waiting = await outboxIds();
    expect(waiting).toHaveLength(1);
    // The relay took the row and is stuck queueing it: its transaction has been idle, holding
    // the batch, for longer than any pass that reaches Redis takes.
    await until(
      async () =>
        (
          await db.query(
            `SELECT 1 FROM pg_stat_activity
              WHERE datname = current_database() AND state = 'idle in transaction'
                AND query LIKE '%FROM event_outbox%FOR UPDATE%'
                AND now() - state_change > interval '500 milliseconds'`,
          )
        ).length === 1,
      'the relay to wait on the queue',
    );
    expect(redis.running).toBe(false);

    await redis.start();
    await until(async () => (await outboxIds()).length === 0, 'the relay to empty the outbox', {
      timeoutMs: 30_000,
    });
    await until(
      async () => (await queue.getJobState(waiting[0])) === 'completed',
      'the job to complete',
      { timeoutMs: 30_000 },
    );
    const after = receiver.requests.slice(before);
    expect(after.map((r) => [r.headers['webhook-id'], r.answered])).toEqual([[waiting[0], 200]]);
    expect(JSON.parse(after[0].body).data).toEqual(data);
    expect(await queue.getJobCounts('waiting', 'delayed', 'active', 'failed')).toEqual({
      waiting: 0,
      delayed: 0,
      active: 0,
      failed: 0,
    });
  });

  it('writes no event for a page whose transaction rolls back, and one for the retried page', async () => {
    const items = new ItemsRepository(db);
    const connection = newConnection('user-3');
    await storeConnections(db, connection);
    const { connectionId } = connection;
    const page = { userId: 'user-3', connectionId, provider: 'google-calendar' };
    const writePage = (fail: boolean) =>
      db.transaction(async (m) => {
        const written = await items.upsertPage(m, {
          ...page,
          upserts: [makeItem(1), makeItem(2)],
          deletions: [],
        });
        await worker!.get(PdeckNotifier).record(m, 'items.changed', {
          ...page,
          upserted: written.inserted + written.updated,
          deleted: written.deleted,
          fromChangeSeq: written.minChangeSeq!,
          toChangeSeq: written.maxChangeSeq!,
        });
        // The page fails after its event was recorded (the worker dies, Postgres fails...).
        if (fail) throw new Error('page failed before commit');
      });
    const before = receiver.requests.length;
    const count = async (): Promise<number> =>
      (
        await db.query(
          `SELECT (SELECT count(*) FROM event_outbox) + (SELECT count(*) FROM items
             WHERE connection_id = $1) AS n`,
          [connectionId],
        )
      )[0].n;

    await expect(writePage(true)).rejects.toThrow('page failed before commit');
    expect(Number(await count())).toBe(0);

    await writePage(false);
    await until(() => receiver.requests.length > before, 'the retried page to be notified');
    const [sent] = receiver.requests.slice(before);
    expect(JSON.parse(sent.body).data).toMatchObject({ connectionId, upserted: 2, deleted: 0 });
  });
});
