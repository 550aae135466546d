import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleCalendarFake } from '../../sandbox/google-calendar/google-calendar.fake.js';
import type { PushAttempt } from '@pdeck/integration-sdk/sandbox';
import { TrelloFake } from '../../sandbox/trello/index.js';
import { Cluster } from '../harness/cluster.js';
import { connectThroughConsent } from '../harness/connect.js';
import { eventually } from '@pdeck/integration-sdk/testing';
import { googleEnv, slowEventPages, sourceEventIds } from './google-kit.js';
import {
  duplicateSchedulers,
  installItemWriteLog,
  itemWriteCounts,
  jobSchedulers,
  repeatedItemWrites,
  repeatedWriteHistory,
} from './item-writes.js';
import { itLeavesNoSecrets } from './no-leaks.js';
import { connectAlice, deliveryIdOf, itemsEqualTrello, trelloEnv } from './trello-kit.js';

const CONNECTIONS = 20;
const EVENTS_EACH = 250;
const ACCOUNTS = Array.from({ length: CONNECTIONS }, (_, i) => ({
  email: `many-${i}@example.com`,
  name: `Many ${i}`,
  timeZone: 'UTC',
}));

/** The service's delivery id of a Google push: `<channel id>:<message number>`. */
function googleDeliveryId(attempt: PushAttempt): string | undefined {
  const h = attempt.headers;
  if (h['X-Goog-Resource-State'] !== 'exists') return undefined;
  return `${h['X-Goog-Channel-ID']}:${h['X-Goog-Message-Number']}`;
}

/** Deliveries API process `index` accepted (stored and queued), from its own /metrics. */
async function acceptedDeliveries(cluster: Cluster, index: number): Promise<number> {
  const text = await (await cluster.apiRequest(index, '/metrics')).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('webhook_deliveries_total{') && l.includes('outcome="accepted"'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

interface RunRow {
  connection_id: string;
  id: string;
  status: string;
  started_at: Date | null;
  finished_at: Date | null;
}

/**
 * Runs of one connection whose [started, finished] intervals overlap, as readable lines. A run a
 * follow-up covered (a request made while a sync ran) is finished with the covering run's
 * interval, so identical intervals are one execution and counted once.
 */
function overlappingRuns(runs: RunRow[]): string[] {
  const byConnection = new Map<string, RunRow[]>();
  const seen = new Set<string>();
  for (const run of runs) {
    if (!run.started_at) continue;
    const execution = `${run.connection_id} ${run.started_at.toISOString()} ${run.finished_at?.toISOString()}`;
    if (seen.has(execution)) continue;
    seen.add(execution);
    byConnection.set(run.connection_id, [...(byConnection.get(run.connection_id) ?? []), run]);
  }
  const out: string[] = [];
  for (const [connection, list] of byConnection) {
    list.sort((a, b) => a.started_at!.getTime() - b.started_at!.getTime());
    for (let i = 1; i < list.length; i++) {
      const previous = list[i - 1];
      const end = previous.finished_at?.getTime() ?? Infinity;
      if (list[i].started_at!.getTime() < end) {
        out.push(`${connection}: run ${list[i].id} started before run ${previous.id} finished`);
      }
    }
  }
  return out;
}

// The production shape scaled out: two ROLE=api processes behind a round-robin balancer (the
// public URL: OAuth callbacks and every webhook delivery alternate between them) and three
// ROLE=worker processes, on one Postgres and one Redis. 20 Google connections are synced at
// once, several times each, while Trello and Google deliveries arrive.
describe('two APIs and three workers on one Postgres and one Redis', () => {
  const google = new GoogleCalendarFake({ seed: false, accounts: ACCOUNTS });
  const trello = new TrelloFake({ webhooks: { retries: 6, baseDelayMs: 500 } });
  let cluster: Cluster;
  const googleIds: string[] = [];
  let trelloId: string;
  let boards: string[];

  beforeAll(async () => {
    await Promise.all([google.start(), trello.start()]);
    for (const account of ACCOUNTS) google.seedLarge(account.email, 'primary', EVENTS_EACH);
    cluster = await new Cluster({
      apis: 2,
      workers: 3,
      env: {
        ...googleEnv(google),
        ...trelloEnv(trello),
        PROVIDER_ORIGINS: JSON.stringify({ ...google.origins(), ...trello.origins() }),
      },
    }).start();
    await installItemWriteLog(cluster);
    // Connect flows through the balancer: a flow started on one API finishes on the other.
    for (let i = 0; i < CONNECTIONS; i += 5) {
      const batch = ACCOUNTS.slice(i, i + 5).map((a, k) =>
        connectThroughConsent(cluster, 'google-calendar', `many-user-${i + k}`, {
          account: a.email,
        }),
      );
      googleIds.push(...(await Promise.all(batch)));
    }
    ({ connectionId: trelloId, boards } = await connectAlice(cluster, trello, 'many-user-t'));
  });
  afterAll(async () => {
    await cluster?.stop();
    await Promise.all([google.stop(), trello.stop()]);
  });

  it('runs every sync of a connection one at a time and applies every delivery once', async () => {
    const idle = async () => {
      const [{ n }] = await cluster.pg.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM sync_runs WHERE status IN ('queued', 'running')",
      );
      return n === 0 ? true : undefined;
    };
    await eventually(idle, 'the initial syncs', 120_000, 500);
    const before = await itemWriteCounts(cluster);

    // All at once: three sync requests per connection (full, incremental, full) spread over
    // both APIs, and three more a moment later, while those syncs run (events pages answer
    // slowly); meanwhile Trello changes and one Google event per account changes.
    slowEventPages(google, 300, 60);
    const wave = () =>
      googleIds.flatMap((id) =>
        (['full', 'incremental', 'full'] as const).map((mode) =>
          cluster.request(`/v1/connections/${id}/sync`, {
            method: 'POST',
            body: JSON.stringify({ mode }),
          }),
        ),
      );
    const requests = wave();
    await new Promise((r) => setTimeout(r, 400));
    requests.push(...wave());
    const changed = new Map<string, string>();
    const changes = (async () => {
      for (const [i, account] of ACCOUNTS.entries()) {
        const [eventId] = await sourceEventIds(google, account.email, 'primary');
        const summary = `Many ${i} changed`;
        google.updateEvent(account.email, 'primary', eventId, { summary });
        changed.set(`${account.email}:${eventId}`, summary);
      }
    })();
    const seed = trello.seed!;
    const cards: string[] = [];
    for (let i = 0; i < 60; i++) {
      if (i % 2 === 0 || cards.length === 0) {
        cards.push(
          trello.createCard(seed.boards.product, {
            name: `Many card ${i}`,
            idList: seed.lists.todo,
          }).id,
        );
      } else {
        const card = cards[(i * 7) % cards.length];
        trello.updateCard(card, { name: `Many card ${card} renamed at ${i}` });
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const statuses = await Promise.all(requests.map(async (r) => (await r).status));
    await changes;
    expect(statuses.filter((s) => s !== 202)).toEqual([]);
    await Promise.all([trello.whenIdle(), google.whenIdle()]);
    await eventually(idle, 'every sync to finish', 120_000, 500);

    // Every delivery both providers had acknowledged is one row, processed, started once.
    const trelloAttempts = trello.deliveries(10_000);
    const googleAttempts = google.pushes.log(10_000);
    const acknowledged = new Set([
      ...trelloAttempts.filter((a) => a.status === 200).map(deliveryIdOf),
      ...googleAttempts.filter((a) => a.status === 200).flatMap((a) => googleDeliveryId(a) ?? []),
    ]);
    expect(trelloAttempts.filter((a) => a.status !== 200)).toEqual([]);
    expect(googleAttempts.filter((a) => a.status !== 200)).toEqual([]);
    const rows = await eventually(
      async () => {
        const all = await cluster.pg.query<{
          delivery_id: string;
          status: string;
          attempts: number;
        }>('SELECT delivery_id, status, attempts FROM webhook_deliveries');
        return all.every((r) => r.status !== 'received') ? all : undefined;
      },
      'every delivery finished',
      60_000,
      500,
    );
    const ids = rows.map((r) => r.delivery_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...acknowledged].filter((id) => !ids.includes(id))).toEqual([]);
    expect(rows.filter((r) => r.status !== 'processed')).toEqual([]);
    expect(rows.filter((r) => r.attempts !== 1)).toEqual([]);
    // The balancer sent requests to both APIs, and each one accepted deliveries.
    expect(cluster.proxy!.counts).toHaveLength(2);
    for (const index of [0, 1])
      expect(await acceptedDeliveries(cluster, index)).toBeGreaterThan(10);

    // No connection ever had two runs at once.
    const runs = await cluster.pg.query<RunRow>(
      'SELECT connection_id, id, status, started_at, finished_at FROM sync_runs',
    );
    expect(overlappingRuns(runs)).toEqual([]);
    const syncedAgain = new Set(
      runs.filter((r) => r.started_at && r.status === 'succeeded').map((r) => r.connection_id),
    );
    expect(googleIds.every((id) => syncedAgain.has(id))).toBe(true);

    // Items: exactly the providers' data, every real change written once.
    for (const [i, account] of ACCOUNTS.entries()) {
      const items = await cluster.pg.query<{ external_id: string; title: string }>(
        'SELECT external_id, title FROM items WHERE connection_id = $1 AND deleted_at IS NULL',
        [googleIds[i]],
      );
      const source = await sourceEventIds(google, account.email, 'primary');
      expect(items.map((r) => r.external_id).sort()).toEqual(
        source.map((id) => `${account.email}:${id}`).sort(),
      );
      for (const item of items) {
        const summary = changed.get(item.external_id);
        if (summary) expect(item.title).toBe(summary);
      }
    }
    await itemsEqualTrello(cluster, trello, trelloId, boards, 60_000);
    const repeated = await repeatedItemWrites(cluster);
    if (repeated.length) console.log(JSON.stringify(await repeatedWriteHistory(cluster), null, 1));
    expect(repeated).toEqual([]);
    const after = await itemWriteCounts(cluster);
    // Google: one update per account and nothing else (full syncs of unchanged data write
    // nothing); Trello: its creates, and at most one write per rename.
    const [{ n: googleUpdates }] = await cluster.pg.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM test_item_writes w JOIN connections c ON c.id = w.connection_id
        WHERE c.provider = 'google-calendar' AND w.op = 'UPDATE'`,
    );
    expect(googleUpdates).toBe(CONNECTIONS);
    const [{ n: googleInserts }] = await cluster.pg.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM test_item_writes w JOIN connections c ON c.id = w.connection_id
        WHERE c.provider = 'google-calendar' AND w.op = 'INSERT'`,
    );
    expect(googleInserts).toBe(CONNECTIONS * EVENTS_EACH);

    // One scheduler per id in every queue, and one sync scheduler per connection.
    const schedulers = await jobSchedulers({ port: cluster.redis.port });
    expect(duplicateSchedulers(schedulers)).toEqual([]);
    for (const id of [...googleIds, trelloId]) {
      expect(schedulers.sync.filter((k) => k === `sync-${id}`)).toHaveLength(1);
    }
    expect(cluster.processes).toHaveLength(5);
    expect(cluster.processes.every((p) => p.running)).toBe(true);
    console.log(
      `[figures] many processes (2 api + 3 workers): ${requests.length} sync requests for ${CONNECTIONS} connections at once, ` +
        `${runs.length} runs recorded, none overlapping; deliveries ${rows.length} (acknowledged ${acknowledged.size}), each processed once; ` +
        `item writes ${after.inserts - before.inserts} inserts + ${after.updates - before.updates} updates, none stale or repeated; ` +
        `balancer requests per API ${cluster.proxy!.counts.join('/')}`,
    );
  });

  itLeavesNoSecrets(
    () => cluster,
    () => [google, trello],
  );
});
