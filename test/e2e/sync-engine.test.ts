import { randomUUID } from 'node:crypto';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionStore } from '../../src/auth/connection-store.service.js';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type ResolvedAppConfig } from '../../src/core/config/app-config.js';
import { REDIS } from '../../src/core/redis/redis.tokens.js';
import { SyncRunsService } from '../../src/sync/sync-runs.service.js';
import { SyncSchedulerService } from '../../src/sync/sync-scheduler.service.js';
import { SyncTriggerService } from '../../src/sync/sync-trigger.service.js';
import { SYNC_QUEUE } from '../../src/sync/sync.constants.js';
import { eventually } from '@pdeck/integration-sdk/testing';
import { FakeTasksApi, pageOffset } from '../support/fake-tasks-api.js';
import { startTestApp, TEST_API_TOKEN, type TestApp } from '../support/test-app.js';
import { TASKS_ORIGIN, TEST_SYNC_ID, TestSyncProvider } from '../support/test-sync-provider.js';
import { storeTasksConnection } from '../support/active-connection.js';

const auth = { authorization: `Bearer ${TEST_API_TOKEN}`, 'content-type': 'application/json' };

describe('sync engine against a paged, delta-capable API over HTTP', () => {
  let t: TestApp;
  let api: FakeTasksApi;
  let db: DataSource;
  let connectionId: string;

  beforeAll(async () => {
    api = new FakeTasksApi();
    api.seed(120); // 240 tasks in 2 lists, pages of 50
    await api.start();
    t = await startTestApp({
      integrations: [TestSyncProvider],
      env: {
        PROVIDER_ORIGINS: JSON.stringify({ [TASKS_ORIGIN]: api.origin }),
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      },
      configure: (config) => {
        config.providerCredentials[TEST_SYNC_ID] = { clientId: 'cid', clientSecret: 'csecret' };
      },
    });
    db = t.app.get(DataSource);
    connectionId = await storeTasksConnection(
      t.app.get(ConnectionStore),
      TEST_SYNC_ID,
      'user-sync',
    );
  });
  afterAll(async () => {
    await t?.close();
    await api?.close();
  });
  afterEach(() => {
    api.faults = [];
  });

  async function sync(
    mode: 'full' | 'incremental' = 'incremental',
  ): Promise<Record<string, unknown>> {
    return waitForRun(await requestSync(mode));
  }

  async function requestSync(mode: 'full' | 'incremental'): Promise<string> {
    const res = await fetch(`${t.baseUrl}/v1/connections/${connectionId}/sync`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ mode }),
    });
    expect(res.status).toBe(202);
    return ((await res.json()) as { syncRunId: string }).syncRunId;
  }

  function waitForRun(id: string, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    return eventually(
      async () => {
        const [run] = await db.query('SELECT * FROM sync_runs WHERE id = $1', [id]);
        return run && ['succeeded', 'partial', 'failed'].includes(run.status) ? run : undefined;
      },
      `sync run ${id} to end`,
      {
        timeoutMs,
        debug: async () => ({
          run: (await db.query('SELECT status, error_code FROM sync_runs WHERE id = $1', [id]))[0],
          apiSaw: api.requests.slice(-8).map((r) => [r.path, r.pageToken, r.status]),
        }),
      },
    );
  }

  async function itemRows(): Promise<
    { external_id: string; external_version: string; deleted_at: Date | null }[]
  > {
    return db.query(
      'SELECT external_id, external_version, deleted_at FROM items WHERE connection_id = $1 ORDER BY external_id',
      [connectionId],
    );
  }

  function liveSource(): string[] {
    return [...api.tasks.values()]
      .filter((x) => !x.deleted)
      .map((x) => x.id)
      .sort();
  }

  it('imports everything on a full sync, then resumes after a failure between pages with no gap or duplicate', async () => {
    // list-1 has three pages (offsets 0, 50, 100). Its third page request fails once with a 500:
    // pages one and two are committed, and the retried job must go on from the third.
    api.faults = [{ status: 500, pathIncludes: '/lists/list-1/tasks', skip: 2 }];
    const from = api.requests.length;
    const result = await sync('full');
    const served = api.requests.slice(from);
    const pages = (listId: string) =>
      served
        .filter((r) => r.path === `/lists/${listId}/tasks`)
        .map((r) => ({ offset: pageOffset(r.pageToken), status: r.status, faulted: r.faulted }));
    // The fault fired, once, where it was meant to.
    expect(api.faults).toEqual([]);
    expect(served.filter((r) => r.faulted)).toHaveLength(1);
    // The retry asked for the page after the last committed one, not for the first page again.
    expect(pages('list-1')).toEqual([
      { offset: 0, status: 200, faulted: false },
      { offset: 50, status: 200, faulted: false },
      { offset: 100, status: 500, faulted: true },
      { offset: 100, status: 200, faulted: false },
    ]);
    expect(pages('list-2')).toEqual(
      [0, 50, 100].map((offset) => ({ offset, status: 200, faulted: false })),
    );
    expect(served.every((r) => r.syncToken === null)).toBe(true); // a full pass throughout
    expect(result).toMatchObject({ status: 'succeeded', fetched: 240, upserted: 240 });
    const rows = await itemRows();
    expect(rows.map((r) => r.external_id)).toEqual(liveSource());
    expect(new Set(rows.map((r) => r.external_id)).size).toBe(rows.length);
    const [{ count }] = await db.query(
      'SELECT count(*)::int AS count FROM items WHERE connection_id = $1',
      [connectionId],
    );
    expect(count).toBe(240);
    const states = await db.query(
      'SELECT resource_id, stage, cursor FROM sync_states WHERE connection_id = $1 ORDER BY resource_id',
      [connectionId],
    );
    expect(states.map((s: { stage: string }) => s.stage)).toEqual(['incremental', 'incremental']);
    expect(
      states.every(
        (s: { cursor: { syncToken?: string } }) => typeof s.cursor.syncToken === 'string',
      ),
    ).toBe(true);
  });

  it('applies deltas incrementally: updates, deletions as tombstones, unchanged rows untouched', async () => {
    const before = new Map(
      (
        await db.query('SELECT external_id, change_seq FROM items WHERE connection_id = $1', [
          connectionId,
        ])
      ).map((r: { external_id: string; change_seq: string }) => [r.external_id, r.change_seq]),
    );
    api.upsert('list-1', 'list-1-t5', 'Renamed');
    api.remove('list-2-t7');
    api.upsert('list-2', 'list-2-new', 'Brand new');
    const result = await sync('incremental');
    expect(result).toMatchObject({ status: 'succeeded', fetched: 3, upserted: 2, deleted: 1 });
    const rows = await db.query(
      'SELECT external_id, title, deleted_at, change_seq FROM items WHERE connection_id = $1',
      [connectionId],
    );
    const byId = new Map(rows.map((r: { external_id: string }) => [r.external_id, r]));
    expect((byId.get('list-1-t5') as { title: string }).title).toBe('Renamed');
    expect((byId.get('list-2-t7') as { deleted_at: Date | null }).deleted_at).not.toBeNull();
    expect(byId.has('list-2-new')).toBe(true);
    const untouched = rows.filter(
      (r: { external_id: string }) =>
        !['list-1-t5', 'list-2-t7', 'list-2-new'].includes(r.external_id),
    );
    expect(
      untouched.every(
        (r: { external_id: string; change_seq: string }) =>
          before.get(r.external_id) === r.change_seq,
      ),
    ).toBe(true);
  });

  it('runs a full resync of a resource whose sync token is gone (410), sweeping what vanished', async () => {
    api.minValidSyncToken = Number.MAX_SAFE_INTEGER; // every stored sync token is now stale
    // Hard-delete a task at the source: only a full pass + sweep can notice it.
    api.tasks.delete('list-1-t9');
    const result = await sync('incremental');
    api.minValidSyncToken = 0;
    expect(result.status).toBe('succeeded');
    const rows = await itemRows();
    expect(rows.filter((r) => r.deleted_at === null).map((r) => r.external_id)).toEqual(
      liveSource(),
    );
    expect(rows.find((r) => r.external_id === 'list-1-t9')?.deleted_at).not.toBeNull();
  });

  it('waits for Retry-After (seconds and HTTP-date) without holding the worker slot', async () => {
    const queue = t.app.get<Queue>(getQueueToken(SYNC_QUEUE));
    // Waits of about 2 s, so the parked job is easy to catch in the delayed set.
    const headers = [() => '2', () => new Date(Date.now() + 2500).toUTCString()];
    for (const header of headers) {
      const retryAfter = header(); // the date is taken when its turn comes
      api.upsert('list-1', 'list-1-t1', `Retry ${retryAfter}`);
      api.faults = [
        { status: 429, headers: { 'retry-after': retryAfter }, pathIncludes: 'list-1' },
      ];
      const syncRunId = await requestSync('incremental');
      // During the wait the job is parked in the queue's delayed set, not kept active by a
      // worker that sleeps.
      const parked = await eventually(async () => {
        const delayed = await queue.getDelayed();
        if (delayed.some((j) => j.data.syncRunId === syncRunId)) return true;
        const [run] = await db.query('SELECT status FROM sync_runs WHERE id = $1', [syncRunId]);
        return ['succeeded', 'partial', 'failed'].includes(run?.status) ? false : undefined;
      }, `run ${syncRunId} parked in the delayed set`);
      expect(parked, 'the job was seen in the delayed set').toBe(true);
      const result = await waitForRun(syncRunId);
      expect(result.status).toBe('succeeded');
      const rejected = api.requests.filter((r) => r.status === 429).at(-1)!;
      const nextList1 = api.requests.find(
        (r) => r.at > rejected.at && r.path === '/lists/list-1/tasks',
      )!;
      const seconds = /^\d+$/.test(retryAfter);
      const retryAt = seconds ? rejected.at + Number(retryAfter) * 1000 : Date.parse(retryAfter);
      // HTTP-dates have 1 s resolution: allow the truncated second.
      expect(nextList1.at).toBeGreaterThanOrEqual(retryAt - (seconds ? 0 : 1000));
      // The header's time, not the 60 s the client assumes for a 429 without one.
      expect(nextList1.at - rejected.at).toBeLessThan(30_000);
    }
  });

  it('coalesces 20 concurrent triggers into one queued sync', async () => {
    const queue = t.app.get<Queue>(getQueueToken(SYNC_QUEUE));
    await queue.pause();
    try {
      const responses = await Promise.all(
        Array.from({ length: 20 }, () =>
          fetch(`${t.baseUrl}/v1/connections/${connectionId}/sync`, {
            method: 'POST',
            headers: auth,
            body: '{}',
          }).then((r) => r.json() as Promise<{ syncRunId: string }>),
        ),
      );
      expect(new Set(responses.map((r) => r.syncRunId)).size).toBe(1);
      const waiting = (await queue.getWaiting()).filter(
        (j) => j.name === 'run' && j.data.connectionId === connectionId,
      );
      expect(waiting).toHaveLength(1);
      const result = await (async () => {
        await queue.resume();
        return waitForRun(responses[0].syncRunId);
      })();
      expect(result.status).toBe('succeeded');
    } finally {
      await queue.resume();
    }
  });

  it('answers requests made while a sync runs with one follow-up that runs after it (full wins)', async () => {
    let release!: () => void;
    api.hold = new Promise<void>((resolve) => (release = resolve));
    try {
      const received = api.received;
      const first = await requestSync('incremental');
      await eventually(
        async () => (api.received > received ? true : undefined),
        'the first sync to reach the API',
      );
      const later = [
        await requestSync('incremental'),
        await requestSync('full'),
        await requestSync('incremental'),
      ];
      // One follow-up answers the three; it is not the running sync, which began before them.
      expect(new Set(later).size).toBe(1);
      expect(later[0]).not.toBe(first);
      const [queued] = await db.query('SELECT status FROM sync_runs WHERE id = $1', [later[0]]);
      expect(queued.status).toBe('queued');
      const from = api.requests.length;
      release();
      api.hold = undefined;
      const done = await waitForRun(first);
      const followUp = await waitForRun(later[0]);
      expect(done.status).toBe('succeeded');
      expect(followUp).toMatchObject({ status: 'succeeded', mode: 'full' });
      expect((followUp.started_at as Date).getTime()).toBeGreaterThanOrEqual(
        (done.finished_at as Date).getTime(),
      );
      // The follow-up read everything again (no sync token): the full request was kept.
      const served = api.requests.slice(from).filter((r) => r.path.endsWith('/tasks'));
      expect(served.some((r) => r.syncToken === null && r.pageToken === null)).toBe(true);
    } finally {
      release();
      api.hold = undefined;
    }
  });

  it('keeps a follow-up for the sync queued meanwhile instead of counting it as done', async () => {
    // The running sync finished and another was queued before its completion handler ran: the
    // queued one may have started before the follow-up's request, so the follow-up runs after it.
    const queue = t.app.get<Queue>(getQueueToken(SYNC_QUEUE));
    const trigger = t.app.get(SyncTriggerService);
    const runs = t.app.get(SyncRunsService);
    const redis = t.app.get<Redis>(REDIS);
    const key = `${t.app.get<ResolvedAppConfig>(APP_CONFIG).redisKeyPrefix}:sync:follow-up:${connectionId}`;
    await queue.pause();
    try {
      const holder = await requestSync('incremental');
      const followUpId = randomUUID();
      await runs.createQueued(followUpId, connectionId, 'incremental', 'manual');
      const pending = {
        connectionId,
        mode: 'incremental',
        trigger: 'manual',
        syncRunId: followUpId,
      };
      await redis.set(key, JSON.stringify(pending), 'PX', 60_000);
      await trigger.runFollowUp(connectionId);
      const [run] = await db.query('SELECT status FROM sync_runs WHERE id = $1', [followUpId]);
      expect(run.status).toBe('queued');
      expect(JSON.parse((await redis.get(key))!)).toMatchObject({ syncRunId: followUpId });
      await queue.resume();
      const held = await waitForRun(holder);
      const followUp = await waitForRun(followUpId);
      expect(followUp.status).toBe('succeeded');
      expect((followUp.started_at as Date).getTime()).toBeGreaterThanOrEqual(
        (held.finished_at as Date).getTime(),
      );
      expect(await redis.exists(key)).toBe(0);
    } finally {
      await queue.resume();
    }
  });

  it('keeps exactly one scheduler per connection, however often it is upserted', async () => {
    const scheduler = t.app.get(SyncSchedulerService);
    const connection = await t.app.get(ConnectionStore).get(connectionId);
    await scheduler.schedule(connection);
    await scheduler.schedule(connection);
    await scheduler.reconcile();
    const queue = t.app.get<Queue>(getQueueToken(SYNC_QUEUE));
    const schedulers = (await queue.getJobSchedulers(0, -1)).filter(
      (s) => s.key === `sync-${connectionId}`,
    );
    expect(schedulers).toHaveLength(1);
    expect(schedulers[0].every).toBe(30 * 60_000);
  });

  it('validates requests: 400 for a bad id or mode, 404 for an unknown connection, 401 without token', async () => {
    expect(
      (
        await fetch(`${t.baseUrl}/v1/connections/not-a-uuid/sync`, {
          method: 'POST',
          headers: auth,
          body: '{}',
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await fetch(`${t.baseUrl}/v1/connections/${connectionId}/sync`, {
          method: 'POST',
          headers: auth,
          body: '{"mode":"sideways"}',
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await fetch(`${t.baseUrl}/v1/connections/00000000-0000-4000-8000-000000000000/sync`, {
          method: 'POST',
          headers: auth,
          body: '{}',
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await fetch(`${t.baseUrl}/v1/connections/${connectionId}/sync`, {
          method: 'POST',
          body: '{}',
        })
      ).status,
    ).toBe(401);
    const runs = (await (
      await fetch(`${t.baseUrl}/v1/connections/${connectionId}/sync-runs`, { headers: auth })
    ).json()) as { status: string }[];
    expect(runs.length).toBeGreaterThan(3);
    expect(JSON.stringify(runs)).not.toContain('tasks-token');
  });

  it('retires a resource the listing no longer returns: its items become tombstones', async () => {
    const removed = api.lists.splice(1, 1)[0]; // the member lost access to list-2
    try {
      const result = await sync('incremental');
      expect(result.status).toBe('succeeded');
      const [{ live }] = await db.query(
        'SELECT count(*)::int AS live FROM items WHERE connection_id = $1 AND container_id = $2 AND deleted_at IS NULL',
        [connectionId, removed.id],
      );
      expect(live).toBe(0);
      const states = await db.query(
        'SELECT resource_id FROM sync_states WHERE connection_id = $1',
        [connectionId],
      );
      expect(states.map((r: { resource_id: string }) => r.resource_id)).toEqual(['list-1']);
      const [{ kept }] = await db.query(
        "SELECT count(*)::int AS kept FROM items WHERE connection_id = $1 AND container_id = 'list-1' AND deleted_at IS NULL",
        [connectionId],
      );
      expect(kept).toBeGreaterThan(100);
    } finally {
      api.lists.splice(1, 0, removed);
    }
  });
});
