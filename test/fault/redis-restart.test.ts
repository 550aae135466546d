import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrelloFake } from '../../sandbox/trello/index.js';
import { Cluster } from '../harness/cluster.js';
import { itLeavesNoSecrets } from './no-leaks.js';
import {
  allDeliveriesProcessed,
  connectAlice,
  deliveryIdOf,
  itemsEqualTrello,
  trelloEnv,
} from './trello-kit.js';

// Redis restarted while webhooks arrive and jobs run.
describe('Redis restarted during webhook traffic and jobs', () => {
  // Trello retries non-2xx deliveries (3 times over minutes; here 6 times over ~30 s).
  const trello = new TrelloFake({ webhooks: { retries: 6, baseDelayMs: 500 } });
  let cluster: Cluster;
  let connectionId: string;
  let boards: string[];

  beforeAll(async () => {
    await trello.start();
    // Redis as deployed: append-only file, fsync always, noeviction.
    cluster = await new Cluster({ workers: 2, env: trelloEnv(trello) }).start();
    ({ connectionId, boards } = await connectAlice(cluster, trello, 'user-13'));
  });
  afterAll(async () => {
    await cluster?.stop();
    await trello.stop();
  });

  it('answers 503 while Redis is down, loses nothing it acknowledged, keeps one scheduler', async () => {
    const seed = trello.seed!;
    const created: string[] = [];
    const syncReplies: number[] = [];
    let downAt = 0;
    let upAt = 0;
    let restarted: Promise<void> = Promise.resolve();
    for (let i = 0; i < 240; i++) {
      if (i % 3 === 0 || created.length === 0) {
        created.push(
          trello.createCard(seed.boards.product, {
            name: `Outage card ${i}`,
            idList: seed.lists.todo,
          }).id,
        );
      } else if (i % 3 === 1) {
        trello.updateCard(created[(i * 13) % created.length], { name: `Outage card renamed ${i}` });
      } else {
        const res = await cluster.request(`/v1/connections/${connectionId}/sync`, {
          method: 'POST',
          body: JSON.stringify({ mode: 'incremental' }),
        });
        syncReplies.push(res.status);
      }
      if (i === 60) {
        downAt = Date.now();
        await cluster.redis.stop();
        // Back after 8 s, whatever the traffic loop is doing.
        restarted = new Promise<void>((done) => setTimeout(done, 8_000)).then(async () => {
          await cluster.redis.start();
          upAt = Date.now();
        });
      }
      await new Promise((r) => setTimeout(r, 40));
    }
    await restarted;
    await trello.whenIdle();

    const attempts = trello.deliveries(10_000);
    const during = attempts.filter((a) => Date.parse(a.at) > downAt && Date.parse(a.at) < upAt);
    // While Redis was down, deliveries were refused with 503 (and retried by Trello), never 2xx
    // without a place to put the job, never another 5xx.
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((a) => a.status === 503 || a.status === 200)).toBe(true);
    expect(during.filter((a) => a.status === 503).length).toBeGreaterThan(0);
    expect(attempts.filter((a) => a.status >= 500 && a.status !== 503)).toEqual([]);
    const pushes = trello.webhooks.pushes.stats();
    expect(pushes.failed).toBe(0);
    expect(syncReplies.every((s) => s === 202 || s === 503)).toBe(true);

    const firstOkAfter = attempts.find((a) => Date.parse(a.at) >= upAt && a.status === 200);
    const recoveryMs = firstOkAfter ? Date.parse(firstOkAfter.at) - upAt : -1;

    // Every delivery the service acknowledged is stored and processed; the items equal Trello.
    const delivered = new Set(attempts.filter((a) => a.status === 200).map(deliveryIdOf));
    const rows = await allDeliveriesProcessed(cluster);
    const stored = new Set(rows.map((r) => r.delivery_id));
    expect([...delivered].filter((id) => !stored.has(id))).toEqual([]);
    await itemsEqualTrello(cluster, trello, connectionId, boards, 120_000);
    const convergedMs = Date.now() - upAt;

    // Exactly one scheduler for the connection, and every process still up.
    const queue = new Queue('sync', {
      connection: { port: cluster.redis.port },
      prefix: '{pdeck}',
    });
    try {
      const mine = (await queue.getJobSchedulers(0, -1)).filter(
        (s) => s.key === `sync-${connectionId}`,
      );
      expect(mine).toHaveLength(1);
    } finally {
      await queue.close();
    }
    expect(cluster.processes.every((p) => p.running)).toBe(true);
    console.log(
      `[figures] Redis restart: Redis down ${upAt - downAt} ms; ${during.length} delivery attempts meanwhile, ` +
        `${during.filter((a) => a.status === 503).length} answered 503; sync requests ${syncReplies.length} ` +
        `(${syncReplies.filter((s) => s === 503).length} answered 503); first 2xx ${recoveryMs} ms after Redis was back; ` +
        `acknowledged ${delivered.size}, lost 0, given up by the provider ${pushes.failed}; items equal to Trello ${convergedMs} ms after restart`,
    );
  });

  itLeavesNoSecrets(
    () => cluster,
    () => [trello],
  );
});
