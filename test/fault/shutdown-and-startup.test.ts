import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleCalendarFake } from '../../sandbox/google-calendar/google-calendar.fake.js';
import { Cluster } from '../harness/cluster.js';
import { connectThroughConsent } from '../harness/connect.js';
import { eventually } from '@pdeck/integration-sdk/testing';
import { itLeavesNoSecrets } from './no-leaks.js';
import { RedisInstance } from '../harness/redis-instance.js';
import { ServiceProcess } from '../harness/service-process.js';
import { googleEnv, slowEventPages } from './google-kit.js';

const ALICE = 'alice@example.com';
const EVENTS = 10_000;

// SIGTERM during work; scheduler idempotence; the Redis eviction-policy check.
describe('graceful shutdown and startup checks', () => {
  const google = new GoogleCalendarFake({ seed: false });
  let cluster: Cluster;
  let connectionId: string;
  let queue: Queue;

  beforeAll(async () => {
    await google.start();
    google.seedLarge(ALICE, 'primary', EVENTS);
    cluster = await new Cluster({ workers: 2, env: googleEnv(google) }).start();
    queue = new Queue('sync', { connection: { port: cluster.redis.port }, prefix: '{pdeck}' });
  });
  afterAll(async () => {
    await queue?.close();
    await cluster?.stop();
    await google.stop();
  });

  const connectRun = async () =>
    (
      await cluster.pg.query<{ id: string; status: string; upserted: number; finished_at: Date }>(
        "SELECT id, status, upserted, finished_at FROM sync_runs WHERE connection_id = $1 AND trigger = 'connect'",
        [connectionId],
      )
    )[0];
  const schedulers = async () =>
    (await queue.getJobSchedulers(0, -1)).filter((s) => s.key === `sync-${connectionId}`);

  it('SIGTERM lets the active sync finish before the worker exits', async () => {
    slowEventPages(google, 2_000, 4);
    connectionId = await connectThroughConsent(cluster, 'google-calendar', 'user-15', {
      account: ALICE,
    });
    const run = await eventually(
      async () => {
        const r = await connectRun();
        return r?.status === 'running' && r.upserted > 0 ? r : undefined;
      },
      'a sync in flight',
      30_000,
    );
    const worker = cluster.workers.find((w) =>
      w.lines.some((l) => l.includes('Sync run started') && l.includes(run.id)),
    )!;
    expect(worker).toBeDefined();
    const signalledAt = Date.now();
    const exit = await worker.signal('SIGTERM');
    const exitedAt = Date.now();
    expect(exit).toEqual({ code: 0, signal: null });
    // Drained, not abandoned: the run finished inside the process, before it exited.
    const done = await connectRun();
    expect(done.status).toBe('succeeded');
    expect(done.upserted).toBe(EVENTS);
    expect(done.finished_at.getTime()).toBeLessThanOrEqual(exitedAt);
    expect(worker.lines.some((l) => l.includes('SIGTERM received'))).toBe(true);
    const [{ n }] = await cluster.pg.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM items WHERE connection_id = $1 AND deleted_at IS NULL',
      [connectionId],
    );
    expect(n).toBe(EVENTS);
    console.log(
      `[figures] shutdown: worker drained its active sync and exited 0, ${exitedAt - signalledAt} ms after SIGTERM`,
    );
    await worker.start();
  });

  it('keeps exactly one scheduler per connection across restarts and schedule changes', async () => {
    expect(await schedulers()).toHaveLength(1);
    // Every process reconciles schedulers at startup: restart them all, twice over.
    for (const process of cluster.processes) {
      await process.stop();
      await process.start();
    }
    await Promise.all(cluster.processes.map((p) => p.stop()));
    await Promise.all(cluster.processes.map((p) => p.start()));
    expect(await schedulers()).toHaveLength(1);

    for (const minutes of [7, 7, 9]) {
      const res = await cluster.request(`/v1/connections/${connectionId}/sync-schedule`, {
        method: 'PUT',
        body: JSON.stringify({ intervalMinutes: minutes }),
      });
      expect(res.status).toBe(200);
    }
    const [scheduler] = await schedulers();
    expect(await schedulers()).toHaveLength(1);
    expect(Number(scheduler.every)).toBe(9 * 60_000);
  });

  it('warns loudly at startup when Redis may evict keys', async () => {
    const evicting = await new RedisInstance({ maxmemoryPolicy: 'allkeys-lru' }).start();
    const service = new ServiceProcess('evicting', 'worker', {
      NODE_ENV: 'production',
      PUBLIC_URL: cluster.baseUrl,
      DATABASE_URL: cluster.pg.url,
      REDIS_URL: evicting.url,
      INTERNAL_API_TOKENS: 'x'.repeat(32),
      ENCRYPTION_KEYS: cluster.encryptionKey,
      LOG_LEVEL: 'info',
      // No health server: the cluster's workers own their ports, this one needs none.
      WORKER_HEALTH_PORT: '0',
    });
    try {
      await service.start();
      // Printed before the JSON logger exists, by Nest's console logger, at error level.
      const warning = service.lines.find((l) => l.includes('maxmemory-policy'));
      expect(warning).toMatch(/ERROR/);
      expect(warning).toContain('"allkeys-lru", not "noeviction"');
    } finally {
      await service.close();
      await evicting.destroy();
    }
  });

  itLeavesNoSecrets(
    () => cluster,
    () => [google],
  );
});
