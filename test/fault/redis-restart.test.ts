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
    const syncReplies: { start: number; end: number; status: number }[] = [];
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
        const start = Date.now();
        const res = await cluster.request(`/v1/connections/${connectionId}/sync`, {
          method: 'POST',
          body: JSON.stringify({ mode: 'incremental' }),
        });
        syncReplies.push({ start, end: Date.now(), status: res.status });
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
    // Which answer a request gets is known from when it ran, except near the edges of the
    // outage, where a stop or a start in progress (or the 1.5 s queue timeout) can go either
    // way. Deep inside: Redis was down for the whole request. Well outside: up.
    const EDGE_MS = 3_000;
    const downInside = (t: number) => t > downAt + EDGE_MS && t < upAt - EDGE_MS;
    const upOutside = (t: number) => t < downAt || t > upAt + 10_000;
    const at = (a: { at: string }) => Date.parse(a.at); // logged when the answer came
    expect(during.length).toBeGreaterThan(0);
    // A delivery is stored before it is queued. So its first attempt is refused 503 when Redis is
    // down (Trello retries) and acknowledged 200 when it is up; a retry finds the row stored and
    // is a duplicate, acknowledged 200 whatever Redis does. Never another status.
    const wrong = attempts.filter((a) => {
      if (a.attempt > 1) return a.status !== 200;
      if (downInside(at(a))) return a.status !== 503;
      if (upOutside(at(a))) return a.status !== 200;
      return a.status !== 200 && a.status !== 503;
    });
    expect(wrong.map((a) => `${a.at} attempt ${a.attempt}: ${a.status}`)).toEqual([]);
    expect(attempts.filter((a) => a.attempt === 1 && downInside(at(a))).length).toBeGreaterThan(0);
    const pushes = trello.webhooks.pushes.stats();
    expect(pushes.failed).toBe(0);
    // POST /sync needs Redis (to queue the run or to join a queued one): 503 while it is down,
    // 202 while it is up.
    const wrongSync = syncReplies.filter((r) => {
      if (downInside(r.start) && downInside(r.end)) return r.status !== 503;
      if (upOutside(r.start) && upOutside(r.end)) return r.status !== 202;
      return r.status !== 202 && r.status !== 503;
    });
    expect(wrongSync).toEqual([]);
    expect(
      syncReplies.filter((r) => downInside(r.start) && downInside(r.end)).length,
    ).toBeGreaterThan(0);

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
        `(${syncReplies.filter((s) => s.status === 503).length} answered 503); first 2xx ${recoveryMs} ms after Redis was back; ` +
        `acknowledged ${delivered.size}, lost 0, given up by the provider ${pushes.failed}; items equal to Trello ${convergedMs} ms after restart`,
    );
  });

  itLeavesNoSecrets(
    () => cluster,
    () => [trello],
  );
});
