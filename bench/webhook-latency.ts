import { CLUSTER_API_TOKEN } from '../test/harness/cluster.js';
import { sleep, type Rig } from './kit.js';
import { deleteCardDelivery, takeCard, TRELLO_USER, type TrelloTarget } from './trello-kit.js';

/**
 * P3: webhook -> item visible in `GET /v1/items`, under open-loop load of `rate` deliveries per
 * second for `seconds` seconds.
 *
 * Path chosen: Trello `deleteCard` deliveries. They are real traffic (Trello posts one per card
 * deletion) and the one kind of delivery the service applies straight from the webhook, so the
 * figure is the service's own pipeline end to end: HTTP verify + store + enqueue in the API
 * process, BullMQ hand-off through Redis, the worker's parse + routing + tombstone transaction,
 * and the changes feed read. A Google push (or any other Trello action) instead triggers an
 * incremental sync whose time is dominated by the provider's API answer, which P4 measures.
 *
 * Latency = from the moment the bench starts sending a delivery to the moment a feed poll that
 * returns the tombstone comes back. The feed is polled like a PDeck consumer would: follow
 * `nextCursor`, and when caught up wait 20 ms before the next poll (that wait is included).
 */

export interface LatencyResult {
  sent: number;
  acknowledged: number;
  seen: number;
  /** Acknowledged but never visible within the drain time (counted as infinite latency). */
  missing: number;
  achievedRate: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

interface FeedPage {
  items: Array<{ externalId: string; deletedAt: string | null }>;
  nextCursor: string;
  hasMore: boolean;
}

async function feedPage(rig: Rig, cursor: string | undefined): Promise<FeedPage> {
  const query = new URLSearchParams({ userId: TRELLO_USER, provider: 'trello', limit: '1000' });
  if (cursor) query.set('cursor', cursor);
  const res = await fetch(`${rig.cluster.baseUrl}/v1/items?${query}`, {
    headers: { authorization: `Bearer ${CLUSTER_API_TOKEN}` },
  });
  if (res.status !== 200) throw new Error(`GET /v1/items: ${res.status}`);
  return (await res.json()) as FeedPage;
}

/** Pages to the end of the feed; returns the cursor of "now". */
async function feedEnd(rig: Rig): Promise<string | undefined> {
  let cursor: string | undefined;
  for (;;) {
    const page = await feedPage(rig, cursor);
    cursor = page.nextCursor ?? cursor;
    if (!page.hasMore) return cursor;
  }
}

export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export async function webhookLatency(
  rig: Rig,
  target: TrelloTarget,
  rate: number,
  seconds: number,
): Promise<LatencyResult> {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const acked = new Set<string>();
  let cursor = await feedEnd(rig);
  let sending = true;

  // The consumer: polls the feed until sending is over and every acknowledged card was seen
  // (or the drain time passed).
  const poller = (async () => {
    let drainUntil = Infinity;
    for (;;) {
      const page = await feedPage(rig, cursor);
      const now = performance.now();
      cursor = page.nextCursor ?? cursor;
      for (const item of page.items) {
        const at = sentAt.get(item.externalId);
        if (item.deletedAt && at !== undefined) {
          latencies.push(now - at);
          sentAt.delete(item.externalId);
        }
      }
      if (!sending && drainUntil === Infinity) drainUntil = now + 30_000;
      const waiting = [...sentAt.keys()].filter((card) => acked.has(card)).length;
      if (!sending && (waiting === 0 || now > drainUntil)) return;
      if (!page.hasMore) await sleep(20);
    }
  })();

  // The provider: open loop, one delivery every 1000/rate ms on a fixed schedule, whatever the
  // answers take (a slow answer does not slow the sender down).
  const inFlight: Promise<void>[] = [];
  const total = Math.round(rate * seconds);
  const started = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
    for (; sent < due; sent++) {
      const card = takeCard(target);
      if (!card) throw new Error('P3: no live card left for a delivery');
      const delivery = deleteCardDelivery(target, rig, card);
      sentAt.set(card, performance.now());
      inFlight.push(
        fetch(target.callbackUrl, {
          method: 'POST',
          headers: delivery.headers,
          body: delivery.body,
        })
          .then(async (res) => {
            await res.arrayBuffer();
            if (res.status >= 200 && res.status < 300) acked.add(card);
            else sentAt.delete(card);
          })
          .catch(() => void sentAt.delete(card)),
      );
    }
    await sleep(2);
  }
  const sendMs = performance.now() - started;
  await Promise.all(inFlight);
  sending = false;
  await poller;

  const missing = [...sentAt.keys()].filter((card) => acked.has(card)).length;
  const all = [...latencies, ...Array<number>(missing).fill(Infinity)].sort((a, b) => a - b);
  return {
    sent: total,
    acknowledged: acked.size,
    seen: latencies.length,
    missing,
    achievedRate: (total / sendMs) * 1000,
    p50Ms: percentile(all, 0.5),
    p90Ms: percentile(all, 0.9),
    p99Ms: percentile(all, 0.99),
    maxMs: all.at(-1) ?? NaN,
  };
}
