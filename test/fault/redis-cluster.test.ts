import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkEvictionPolicy } from '../../src/core/redis/ensure-redis.js';
import { checkRedis, createRedis } from '../../src/core/redis/redis-client.js';
import { GoogleCalendarFake } from '../../sandbox/google-calendar/google-calendar.fake.js';
import { TrelloFake } from '../../sandbox/trello/index.js';
import { Cluster } from '../harness/cluster.js';
import { connectThroughConsent } from '../harness/connect.js';
import { RedisClusterInstance } from '../harness/redis-cluster.js';
import type { RedisInstance } from '../harness/redis-instance.js';
import { eventually } from '@pdeck/integration-sdk/testing';
import { googleEnv, sourceEventIds } from './google-kit.js';
import {
  duplicateSchedulers,
  installItemWriteLog,
  jobSchedulers,
  repeatedItemWrites,
  repeatedWriteHistory,
} from './item-writes.js';
import { itLeavesNoSecrets } from './no-leaks.js';
import {
  allDeliveriesProcessed,
  connectAlice,
  deliveryIdOf,
  itemsEqualTrello,
  trelloEnv,
} from './trello-kit.js';

const ALICE = 'alice@example.com';
const EVENTS = 300;
/** The queues' hash tag: every BullMQ key lives in this slot, on one master. */
const QUEUE_TAG = '{pdeck}';

/** Both sandboxes at once: one PROVIDER_ORIGINS naming the origins of each. */
function providersEnv(google: GoogleCalendarFake, trello: TrelloFake): Record<string, string> {
  return {
    ...googleEnv(google),
    ...trelloEnv(trello),
    PROVIDER_ORIGINS: JSON.stringify({ ...google.origins(), ...trello.origins() }),
  };
}

async function runOf(
  cluster: Cluster,
  connectionId: string,
  trigger: string,
): Promise<{ id: string; status: string; upserted: number }> {
  return eventually(
    async () => {
      const [row] = await cluster.pg.query<{ id: string; status: string; upserted: number }>(
        'SELECT id, status, upserted FROM sync_runs WHERE connection_id = $1 AND trigger = $2 ORDER BY created_at DESC LIMIT 1',
        [connectionId, trigger],
      );
      return row?.status === 'succeeded' ? row : undefined;
    },
    `a ${trigger} sync of ${connectionId} to succeed`,
    60_000,
    250,
  );
}

/** Readiness of the API and of every worker, as status codes. */
async function readiness(cluster: Cluster): Promise<number[]> {
  const api = await fetch(`${cluster.baseUrl}/health/ready`).then((r) => r.status);
  const workers = await Promise.all(
    cluster.workers.map((_, i) => cluster.workerRequest(i, '/health/ready').then((r) => r.status)),
  );
  return [api, ...workers];
}

/**
 * Trello changes at about 10 a second for `seconds`; `during(elapsedMs)` runs between them (to
 * kill a node at the right moment). Returns the cards created.
 */
async function trelloTraffic(
  trello: TrelloFake,
  seconds: number,
  tag: string,
  during: (elapsedMs: number) => Promise<void> = async () => undefined,
): Promise<string[]> {
  const seed = trello.seed!;
  const created: string[] = [];
  const started = Date.now();
  for (let i = 0; Date.now() - started < seconds * 1000; i++) {
    if (i % 2 === 0 || created.length === 0) {
      created.push(
        trello.createCard(seed.boards.product, { name: `${tag} ${i}`, idList: seed.lists.todo }).id,
      );
    } else {
      const card = created[(i * 7) % created.length];
      trello.updateCard(card, { name: `${tag} ${card} renamed at ${i}` });
    }
    await during(Date.now() - started);
    await new Promise((r) => setTimeout(r, 100));
  }
  return created;
}

/**
 * What the service acknowledged, and its rows: every delivery answered 200 is stored once and
 * processed (the row is finished once, in the transaction of its item writes).
 */
async function everyAcknowledgedDeliveryProcessedOnce(
  cluster: Cluster,
  trello: TrelloFake,
): Promise<{ acknowledged: number; retried: number; reprocessed: number }> {
  const attempts = trello.deliveries(10_000);
  const acknowledged = new Set(attempts.filter((a) => a.status === 200).map(deliveryIdOf));
  const rows = await allDeliveriesProcessed(cluster);
  const ids = rows.map((r) => r.delivery_id);
  expect(new Set(ids).size).toBe(ids.length);
  expect([...acknowledged].filter((id) => !ids.includes(id))).toEqual([]);
  expect(rows.filter((r) => r.status !== 'processed')).toEqual([]);
  return {
    acknowledged: acknowledged.size,
    retried: attempts.filter((a) => a.attempt > 1).length,
    reprocessed: rows.filter((r) => r.attempts > 1).length,
  };
}

// The service on a Redis Cluster of three masters (cluster-require-full-coverage no, node
// timeout 2 s): connect flows, a full sync, webhooks and a token refresh; then the master that
// holds the queues is SIGKILLed for 10 s while webhooks arrive, and started again.
describe('Redis Cluster, three masters without replicas', () => {
  const google = new GoogleCalendarFake({ seed: false });
  // Trello retries a non-2xx delivery: 6 times over ~30 s here.
  const trello = new TrelloFake({ webhooks: { retries: 6, baseDelayMs: 500 } });
  let cluster: Cluster;
  let trelloId: string;
  let boards: string[];

  beforeAll(async () => {
    await Promise.all([google.start(), trello.start()]);
    google.seedLarge(ALICE, 'primary', EVENTS);
    cluster = await new Cluster({
      workers: 2,
      redisCluster: { masters: 3 },
      env: providersEnv(google, trello),
    }).start();
    await installItemWriteLog(cluster);
  });
  afterAll(async () => {
    await cluster?.stop();
    await Promise.all([google.stop(), trello.stop()]);
  });

  it('connects (OAuth state), syncs, takes webhooks and refreshes a token, its keys on several masters', async () => {
    // OAuth 2 (Google, PKCE state) and OAuth 1 (Trello, request-token state), each in Redis.
    const googleId = await connectThroughConsent(cluster, 'google-calendar', 'user-rc', {
      account: ALICE,
    });
    ({ connectionId: trelloId, boards } = await connectAlice(cluster, trello, 'user-rc'));

    // The full sync: every event, once.
    const connectRun = await runOf(cluster, googleId, 'connect');
    expect(connectRun.upserted).toBe(EVENTS);
    const items = await cluster.pg.query<{ external_id: string }>(
      'SELECT external_id FROM items WHERE connection_id = $1 AND deleted_at IS NULL',
      [googleId],
    );
    const source = await sourceEventIds(google, ALICE, 'primary');
    expect(items.map((i) => i.external_id).sort()).toEqual(
      source.map((id) => `${ALICE}:${id}`).sort(),
    );

    // Signed webhook deliveries, stored, queued and processed.
    await trelloTraffic(trello, 2, 'Cluster card');
    await trello.whenIdle();
    const first = await everyAcknowledgedDeliveryProcessedOnce(cluster, trello);
    expect(first.acknowledged).toBeGreaterThan(10);
    await itemsEqualTrello(cluster, trello, trelloId, boards, 60_000);

    // A token refresh under the refresh lease (and its journal), then a sync on the new token.
    const refreshes = () =>
      (google.oauth.stats().tokenRequests as Record<string, number>).refresh_token ?? 0;
    const before = refreshes();
    google.oauth.tokens.expireAccessTokens(ALICE);
    const sync = await cluster.request(`/v1/connections/${googleId}/sync`, {
      method: 'POST',
      body: JSON.stringify({ mode: 'incremental' }),
    });
    expect(sync.status).toBe(202);
    const { syncRunId } = (await sync.json()) as { syncRunId: string };
    await eventually(
      async () => {
        const [row] = await cluster.pg.query<{ status: string }>(
          'SELECT status FROM sync_runs WHERE id = $1',
          [syncRunId],
        );
        return row?.status === 'succeeded' ? true : undefined;
      },
      'the sync after the token expired',
      60_000,
      250,
    );
    expect(refreshes()).toBe(before + 1);

    // The startup check read maxmemory-policy on every master (all noeviction: no warning).
    expect(cluster.allLines.filter((l) => l.includes('maxmemory-policy'))).toEqual([]);
    const masters = await cluster.redisCluster!.masterClients();
    try {
      await masters[1].config('SET', 'maxmemory-policy', 'allkeys-lru');
      const policies = await checkEvictionPolicy({
        redisUrl: 'redis://127.0.0.1:1',
        redisCluster: {
          nodes: [{ host: '127.0.0.1', port: cluster.redisCluster!.nodes[0].port }],
          tls: false,
        },
      });
      expect(Object.values(policies).sort()).toEqual(['allkeys-lru', 'noeviction', 'noeviction']);
    } finally {
      await masters[1].config('SET', 'maxmemory-policy', 'noeviction');
      for (const m of masters) m.disconnect();
    }

    // Keys on more than one master: this really ran on a cluster, not on one node of it.
    const perMaster = await cluster.redisCluster!.keysPerMaster();
    expect(Object.values(perMaster).filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
    expect(await readiness(cluster)).toEqual([200, 200, 200]);
    const repeated = await repeatedItemWrites(cluster);
    if (repeated.length) console.log(JSON.stringify(await repeatedWriteHistory(cluster), null, 1));
    expect(repeated).toEqual([]);
  });

  it('loses the queues master for 10 s: 503 then retries, nothing acknowledged lost, all processed once after it returns', async () => {
    const redisCluster = cluster.redisCluster!;
    const victim: RedisInstance = await redisCluster.masterOf(QUEUE_TAG);
    let downAt = 0;
    let upAt = 0;
    let restarted: Promise<void> = Promise.resolve();
    const readyWhileDown: number[][] = [];
    await trelloTraffic(trello, 16, 'Outage card', async (elapsed) => {
      if (!downAt && elapsed > 3_000) {
        downAt = Date.now();
        await victim.kill();
        restarted = (async () => {
          // Readiness says so once the other masters agree the node failed (node timeout 2 s).
          await new Promise((r) => setTimeout(r, 6_000));
          readyWhileDown.push(await readiness(cluster));
          await new Promise((r) => setTimeout(r, 4_000));
          await victim.start();
          upAt = Date.now();
        })();
      }
    });
    await restarted;
    await redisCluster.waitUntilHealthy();
    await trello.whenIdle();

    const attempts = trello.deliveries(10_000);
    const inside = (t: number) => t > downAt + 3_000 && t < upAt - 1_000;
    const firstDuring = attempts.filter((a) => a.attempt === 1 && inside(Date.parse(a.at)));
    // Stored in Postgres, not queued: 503, and Trello retries.
    expect(firstDuring.length).toBeGreaterThan(0);
    expect(firstDuring.filter((a) => a.status !== 503)).toEqual([]);
    expect(trello.webhooks.pushes.stats().failed).toBe(0);
    expect(readyWhileDown).toEqual([[503, 503, 503]]);

    const outcome = await everyAcknowledgedDeliveryProcessedOnce(cluster, trello);
    await itemsEqualTrello(cluster, trello, trelloId, boards, 120_000);
    const recoveredMs = Date.now() - upAt;
    const repeated = await repeatedItemWrites(cluster);
    if (repeated.length) console.log(JSON.stringify(await repeatedWriteHistory(cluster), null, 1));
    expect(repeated).toEqual([]);
    expect(await readiness(cluster)).toEqual([200, 200, 200]);
    expect(cluster.processes.every((p) => p.running)).toBe(true);

    // The node came back with its append-only file: the schedulers it held are there, once.
    await expectSchedulersOnce(redisCluster, trelloId);
    console.log(
      `[figures] Redis Cluster, master lost without replica: down ${upAt - downAt} ms; ` +
        `${firstDuring.length} first delivery attempts meanwhile answered 503; acknowledged ${outcome.acknowledged}, lost 0; ` +
        `provider retries ${outcome.retried}; rows started more than once (idempotent) ${outcome.reprocessed}; ` +
        `items equal to Trello ${recoveredMs} ms after the node returned`,
    );
  });

  itLeavesNoSecrets(
    () => cluster,
    () => [google, trello],
  );
});

// Three masters with a replica each: the master holding the queues is SIGKILLed while webhooks
// arrive and is not started again; its replica takes over.
describe('Redis Cluster, three masters with a replica each', () => {
  const trello = new TrelloFake({ webhooks: { retries: 6, baseDelayMs: 500 } });
  let cluster: Cluster;
  let trelloId: string;
  let boards: string[];

  beforeAll(async () => {
    await trello.start();
    cluster = await new Cluster({
      workers: 2,
      redisCluster: { masters: 3, replicas: 1 },
      env: trelloEnv(trello),
    }).start();
    await installItemWriteLog(cluster);
    ({ connectionId: trelloId, boards } = await connectAlice(cluster, trello, 'user-failover'));
  });
  afterAll(async () => {
    await cluster?.stop();
    await trello.stop();
  });

  it('fails over to the replica: every acknowledged delivery processed exactly once', async () => {
    const redisCluster = cluster.redisCluster!;
    const victim = await redisCluster.masterOf(QUEUE_TAG);
    let killedAt = 0;
    await trelloTraffic(trello, 12, 'Failover card', async (elapsed) => {
      if (!killedAt && elapsed > 3_000) {
        killedAt = Date.now();
        await victim.kill();
      }
    });
    // The replica took the slots over: the queues' slot has a live master again.
    const promoted = await redisCluster.masterOf(QUEUE_TAG);
    expect(promoted.port).not.toBe(victim.port);
    await trello.whenIdle();

    const outcome = await everyAcknowledgedDeliveryProcessedOnce(cluster, trello);
    await itemsEqualTrello(cluster, trello, trelloId, boards, 120_000);
    const convergedMs = Date.now() - killedAt;
    const repeated = await repeatedItemWrites(cluster);
    if (repeated.length) console.log(JSON.stringify(await repeatedWriteHistory(cluster), null, 1));
    expect(repeated).toEqual([]);
    expect(trello.webhooks.pushes.stats().failed).toBe(0);
    expect(cluster.processes.every((p) => p.running)).toBe(true);
    await eventually(
      async () => ((await readiness(cluster)).every((s) => s === 200) ? true : undefined),
      'every process ready again',
      30_000,
      500,
    );
    await expectSchedulersOnce(redisCluster, trelloId);
    // During the switch a delivery may be stored but not queued: 503, and the provider retries.
    const attempts = trello.deliveries(10_000);
    expect(attempts.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([]);
    // A graceful stop on the cluster: workers drain, every connection (the queues' shared
    // cluster client included) closes, the process exits 0.
    for (const process of [cluster.workers[1], cluster.api]) {
      expect(await process.signal('SIGTERM')).toEqual({ code: 0, signal: null });
    }
    console.log(
      `[figures] Redis Cluster failover: acknowledged ${outcome.acknowledged}, lost 0; ` +
        `non-2xx answers ${attempts.filter((a) => a.status !== 200).length} (retried by the provider: ${outcome.retried}); ` +
        `rows started more than once (idempotent) ${outcome.reprocessed}; items equal to Trello ${convergedMs} ms after the kill`,
    );
  });

  itLeavesNoSecrets(
    () => cluster,
    () => [trello],
  );
});

// The service's shared connection (createRedis 'data') when every node is away at once.
describe('Redis Cluster entirely down: the shared connection', () => {
  const redisCluster = new RedisClusterInstance({ masters: 3 });
  beforeAll(async () => {
    await redisCluster.start();
  });
  afterAll(() => redisCluster.destroy());

  it('fails a command at once while no node answers, and works again once they are back', async () => {
    const client = createRedis(
      {
        redisUrl: 'redis://127.0.0.1:1',
        redisCluster: {
          nodes: [{ host: '127.0.0.1', port: redisCluster.nodes[0].port }],
          tls: false,
        },
      },
      'data',
    );
    client.on('error', () => undefined);
    try {
      await client.set('pdeck:outage:probe', 'kept');
      await Promise.all(redisCluster.nodes.map((n) => n.stop()));
      // Not parked in the offline queue until the cluster returns: an HTTP handler answers 503.
      const started = Date.now();
      await expect(client.get('pdeck:outage:probe')).rejects.toThrow();
      const failedMs = Date.now() - started;
      expect(failedMs).toBeLessThan(5_000);
      await Promise.all(redisCluster.nodes.map((n) => n.start()));
      await redisCluster.waitUntilHealthy();
      await eventually(
        async () => ((await client.get('pdeck:outage:probe')) === 'kept' ? true : undefined),
        'the shared connection to work again',
        30_000,
        250,
      );
      await checkRedis(client);
      console.log(`[figures] Redis Cluster entirely down: a command failed after ${failedMs} ms`);
    } finally {
      client.disconnect();
    }
  });
});

/** Every job scheduler exists once on the cluster, the connection's sync scheduler among them. */
async function expectSchedulersOnce(
  redisCluster: RedisClusterInstance,
  connectionId: string,
): Promise<void> {
  const client = redisCluster.client();
  try {
    const schedulers = await jobSchedulers(client);
    expect(duplicateSchedulers(schedulers)).toEqual([]);
    expect(schedulers.sync.filter((k) => k === `sync-${connectionId}`)).toHaveLength(1);
  } finally {
    client.disconnect();
  }
}
