import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrelloFake } from '../../sandbox/trello/index.js';
import { Cluster } from '../harness/cluster.js';
import { itLeavesNoSecrets } from './no-leaks.js';
import {
  allDeliveriesProcessed,
  connectAlice,
  deliveryIdOf,
  forge,
  itemsEqualTrello,
  postRaw,
  trelloEnv,
} from './trello-kit.js';

const CREATES = 300;
const UPDATES = 400;
const DELETES = 150;
const GENUINE = CREATES + UPDATES + DELETES; // 850 changes, one delivery each
const DUPLICATES = 100; // 10% of 1,000
const FORGERIES = 50; // 5% of 1,000

// The load-and-fault run: 1,000 webhook deliveries (85% genuine, 10% duplicates, 5% forgeries)
// into 1 API + 2 workers while one worker is SIGKILLed and restarted.
describe('load and fault: 1,000 deliveries while a worker dies', () => {
  // Trello retries a non-2xx delivery; a short schedule keeps the test quick.
  const trello = new TrelloFake({ webhooks: { retries: 5, baseDelayMs: 500 } });
  let cluster: Cluster;
  let connectionId: string;
  let boards: string[];

  beforeAll(async () => {
    await trello.start();
    cluster = await new Cluster({ workers: 2, env: trelloEnv(trello) }).start();
    ({ connectionId, boards } = await connectAlice(cluster, trello, 'user-load'));
  });
  afterAll(async () => {
    await cluster?.stop();
    await trello.stop();
  });

  it('applies every genuine change exactly once and rejects every forgery', async () => {
    const seed = trello.seed!;
    const lists = [seed.lists.todo, seed.lists.doing, seed.lists.done];
    const created: string[] = [];
    const deleted = new Set<string>();
    const replies = { duplicate: [] as number[], forged: [] as number[] };
    const forgedActions: string[] = [];
    const victim = cluster.workers[0];
    let killedAt = 0;

    const ops = [
      ...Array<'create'>(CREATES).fill('create'),
      ...shuffle([
        ...Array<'update'>(UPDATES).fill('update'),
        ...Array<'delete'>(DELETES).fill('delete'),
      ]),
    ];
    const started = Date.now();
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      if (op === 'create') {
        created.push(
          trello.createCard(seed.boards.product, { name: `Load ${i}`, idList: lists[i % 3] }).id,
        );
      } else {
        const alive = created.filter((id) => !deleted.has(id));
        const card = alive[(i * 7919) % alive.length];
        if (op === 'update') trello.updateCard(card, { name: `Load ${card} renamed at ${i}` });
        else {
          trello.deleteCard(card);
          deleted.add(card);
        }
      }
      // Every 17 changes: two replays of delivered bodies (a provider's duplicates) and a forgery.
      if (i % 17 === 16) {
        if (!trello.deliveries(1).length) await trello.whenIdle();
        const delivered = trello.deliveries(5_000).filter((a) => a.status === 200);
        for (const k of [1, 2]) {
          const a = delivered[(i * k * 31) % delivered.length];
          replies.duplicate.push(await postRaw(a.url, a.headers, a.body));
        }
        const f = forge(delivered[i % delivered.length], replies.forged.length);
        forgedActions.push(f.deliveryAction);
        replies.forged.push(await postRaw(delivered[0].url, f.headers, f.body));
      }
      if (i === 250) {
        killedAt = Date.now();
        await victim.kill();
      }
      if (i === 400) await victim.start();
      // About 100 changes a second.
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 100));
    }
    await trello.whenIdle();
    const sentMs = Date.now() - started;

    // Every genuine change and its delivery: applied, once.
    await itemsEqualTrello(cluster, trello, connectionId, boards);
    const convergedMs = Date.now() - killedAt;
    const pushes = trello.webhooks.pushes.stats();
    const attempts = trello.deliveries(10_000);
    const genuineIds = new Set(attempts.map(deliveryIdOf));
    expect(genuineIds.size).toBe(GENUINE);
    expect(pushes.failed).toBe(0); // no delivery given up by the provider
    expect(attempts.filter((a) => a.status >= 500)).toEqual([]);

    // Deliveries whose jobs died with the worker come back (stalled-job check or the sweeper).
    const rows = await allDeliveriesProcessed(cluster);
    const processedMs = Date.now() - killedAt;
    const rowIds = rows.map((r) => r.delivery_id);
    expect(new Set(rowIds).size).toBe(rowIds.length);
    expect(rowIds.sort()).toEqual([...genuineIds].sort()); // none lost, none extra, none forged
    expect(rows.filter((r) => r.status !== 'processed')).toEqual([]);
    // A deleted card is a tombstone, or absent when it was created and deleted between two syncs.
    const deletedRows = await cluster.pg.query<{ external_id: string; deleted: boolean }>(
      'SELECT external_id, deleted_at IS NOT NULL AS deleted FROM items WHERE connection_id = $1 AND external_id = ANY($2)',
      [connectionId, [...deleted]],
    );
    expect(deletedRows.filter((r) => !r.deleted)).toEqual([]);
    const tombstones = deletedRows.length;

    expect(replies.duplicate).toHaveLength(DUPLICATES);
    expect(replies.duplicate.every((s) => s >= 200 && s < 300)).toBe(true);
    expect(replies.forged).toHaveLength(FORGERIES);
    expect(replies.forged.every((s) => s === 401)).toBe(true);
    const forgedRows = await cluster.pg.query(
      'SELECT 1 FROM webhook_deliveries WHERE delivery_id LIKE ANY ($1)',
      [forgedActions.map((a) => `%:${a}`)],
    );
    expect(forgedRows).toEqual([]);

    const reprocessed = rows.filter((r) => r.attempts > 1).length;
    console.log(
      `[figures] load-and-fault: ${GENUINE} genuine + ${DUPLICATES} duplicates + ${FORGERIES} forgeries = ${GENUINE + DUPLICATES + FORGERIES} deliveries in ${sentMs} ms; ` +
        `provider attempts ${pushes.attempts}, delivered ${pushes.delivered}, given up ${pushes.failed}; rows ${rows.length} (lost 0, duplicated 0); ` +
        `forgeries rejected ${replies.forged.filter((s) => s === 401).length}/${FORGERIES}; processed more than once (idempotent) ${reprocessed}; deleted cards ${deleted.size} (tombstoned ${tombstones}, never seen alive ${deleted.size - tombstones}); ` +
        `items equal to Trello ${convergedMs} ms and every delivery processed ${processedMs} ms after the SIGKILL`,
    );
  });

  itLeavesNoSecrets(
    () => cluster,
    () => [trello],
  );
});

/** Deterministic shuffle (a test must be repeatable). */
function shuffle<T>(items: T[]): T[] {
  let seed = 42;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
