import { CLUSTER_API_TOKEN } from '../test/harness/cluster.js';
import { BENCH_USER, sleep, type Rig } from './kit.js';
import { messageDelivery, type SlackTarget } from './slack-kit.js';
import { deleteCardDelivery, takeCard, type TrelloTarget } from './trello-kit.js';

/**
 * P3: webhook -> item visible in `GET /v1/items`, under open-loop load of `rate` deliveries per
 * second for `seconds` seconds, alternating two kinds of real traffic:
 * - a signed Slack `message` event (a new message in a synced channel): visible when the new
 *   item is in the feed;
 * - a signed Trello `deleteCard` delivery of a live card: visible when its tombstone is.
 * Both are applied straight from the webhook, so the figure is the service's own pipeline end to
 * end: HTTP verify + store + enqueue in the API process, BullMQ hand-off through Redis, the
 * worker's parse + routing + upsert or tombstone transaction, and the changes feed read. A Google
 * push (or any other Trello action) instead triggers an incremental sync whose time is dominated
 * by the provider's API answer, which P4 measures.
 *
 * Latency = from the moment the bench starts sending a delivery to the moment a feed poll that
 * returns its item comes back. Both connections belong to one PDeck user, whose feed is polled
 * like a PDeck consumer would: follow `nextCursor`, and when caught up wait 20 ms before the
 * next poll (that wait is included).
 *
 * Every other delivery deletes a card while the bench board has live ones left; after that the
 * deliveries are Slack messages only (`byProvider` tells the shares). P3 runs it once, P5
 * (webhook-capacity.ts) at a rising rate.
 */

export type Provider = 'slack' | 'trello';

/** One provider's share of the deliveries. */
export interface ProviderLatency {
  sent: number;
  acknowledged: number;
  seen: number;
  missing: number;
  p50Ms: number;
  p99Ms: number;
}

export interface LatencyResult {
  /** The paced rate asked for, deliveries per second, and for how long. */
  rate: number;
  seconds: number;
  sent: number;
  acknowledged: number;
  seen: number;
  /** Acknowledged but never visible within the drain time (counted as infinite latency). */
  missing: number;
  /** Deliveries sent per second over the sending phase (below `rate` when the sender lagged). */
  achievedRate: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  byProvider: Record<Provider, ProviderLatency>;
}

interface FeedPage {
  items: Array<{ externalId: string; deletedAt: string | null }>;
  nextCursor: string;
  hasMore: boolean;
}

async function feedPage(rig: Rig, cursor: string | undefined): Promise<FeedPage> {
  const query = new URLSearchParams({ userId: BENCH_USER, limit: '1000' });
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

/** A delivery in flight: whose it is and when the bench started sending it. */
interface Sent {
  provider: Provider;
  at: number;
}

/** A signed delivery to send, and the external id of the item it changes. */
interface Outgoing {
  provider: Provider;
  id: string;
  url: string;
  body: string;
  headers: Record<string, string>;
}

/** Whether the feed shows the delivery's effect: a new Slack item, a Trello tombstone. */
const visible = (sent: Sent, item: FeedPage['items'][number]) =>
  sent.provider === 'slack' ? item.deletedAt === null : item.deletedAt !== null;

/** Latencies with the missing ones counted as infinite, sorted. */
const withMissing = (latencies: number[], missing: number) =>
  [...latencies, ...Array<number>(missing).fill(Infinity)].sort((a, b) => a - b);

/**
 * Sends `rate` deliveries per second for `seconds` seconds and measures each one's latency to
 * the feed; an acknowledged delivery not visible `drainMs` after the sending ended is missing.
 */
export async function webhookLatency(
  rig: Rig,
  slack: SlackTarget,
  trello: TrelloTarget,
  rate: number,
  seconds: number,
  drainMs: number,
): Promise<LatencyResult> {
  /** By the item's external id (a Slack `<channel>:<ts>` or a Trello card id). */
  const inFlightItems = new Map<string, Sent>();
  const latencies: Record<Provider, number[]> = { slack: [], trello: [] };
  const sentBy: Record<Provider, number> = { slack: 0, trello: 0 };
  const acked = new Map<string, Provider>();
  let cursor = await feedEnd(rig);
  let sending = true;
  const waiting = () => [...inFlightItems.keys()].filter((id) => acked.has(id));

  // The consumer: polls the feed until sending is over and every acknowledged delivery was seen
  // (or the drain time passed).
  const poller = (async () => {
    let drainUntil = Infinity;
    for (;;) {
      const page = await feedPage(rig, cursor);
      const now = performance.now();
      cursor = page.nextCursor ?? cursor;
      for (const item of page.items) {
        const sent = inFlightItems.get(item.externalId);
        if (sent && visible(sent, item)) {
          latencies[sent.provider].push(now - sent.at);
          inFlightItems.delete(item.externalId);
        }
      }
      if (!sending && drainUntil === Infinity) drainUntil = now + drainMs;
      if (!sending && (waiting().length === 0 || now > drainUntil)) return;
      if (!page.hasMore) await sleep(20);
    }
  })();

  // The providers: open loop, one delivery every 1000/rate ms on a fixed schedule, whatever the
  // answers take (a slow answer does not slow the sender down), Slack and Trello in turn.
  const next = (n: number): Outgoing => {
    const card = n % 2 === 1 ? takeCard(trello) : undefined;
    if (!card) {
      const { externalId, body, headers } = messageDelivery(slack);
      return { provider: 'slack', id: externalId, url: slack.url, body, headers };
    }
    const { body, headers } = deleteCardDelivery(trello, rig, card);
    return { provider: 'trello', id: card, url: trello.callbackUrl, body, headers };
  };
  const inFlight: Promise<void>[] = [];
  const total = Math.round(rate * seconds);
  const started = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
    for (; sent < due; sent++) {
      const { provider, id, url, body, headers } = next(sent);
      sentBy[provider] += 1;
      inFlightItems.set(id, { provider, at: performance.now() });
      inFlight.push(
        fetch(url, { method: 'POST', headers, body })
          .then(async (res) => {
            await res.arrayBuffer();
            if (res.status >= 200 && res.status < 300) acked.set(id, provider);
            else inFlightItems.delete(id);
          })
          .catch(() => void inFlightItems.delete(id)),
      );
    }
    await sleep(2);
  }
  const sendMs = performance.now() - started;
  await Promise.all(inFlight);
  sending = false;
  await poller;

  const missing = { slack: 0, trello: 0 };
  for (const id of waiting()) missing[acked.get(id)!] += 1;
  const share = (provider: Provider): ProviderLatency => {
    const all = withMissing(latencies[provider], missing[provider]);
    return {
      sent: sentBy[provider],
      acknowledged: [...acked.values()].filter((p) => p === provider).length,
      seen: latencies[provider].length,
      missing: missing[provider],
      p50Ms: percentile(all, 0.5),
      p99Ms: percentile(all, 0.99),
    };
  };
  const all = withMissing(
    [...latencies.slack, ...latencies.trello],
    missing.slack + missing.trello,
  );
  return {
    rate,
    seconds,
    sent: total,
    acknowledged: acked.size,
    seen: latencies.slack.length + latencies.trello.length,
    missing: missing.slack + missing.trello,
    achievedRate: (total / sendMs) * 1000,
    p50Ms: percentile(all, 0.5),
    p90Ms: percentile(all, 0.9),
    p99Ms: percentile(all, 0.99),
    maxMs: all.at(-1) ?? NaN,
    byProvider: { slack: share('slack'), trello: share('trello') },
  };
}
