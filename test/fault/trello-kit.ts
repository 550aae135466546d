import { createHmac, randomBytes } from 'node:crypto';
import { SANDBOX_TRELLO_APP, type TrelloFake } from '../../sandbox/trello/index.js';
import type { PushAttempt } from '@pdeck/integration-sdk/sandbox';
import type { Cluster } from '../harness/cluster.js';
import { connectThroughConsent } from '../harness/connect.js';
import { eventually } from '@pdeck/integration-sdk/testing';

/** Environment wiring a cluster to the Trello sandbox. */
export function trelloEnv(trello: TrelloFake): Record<string, string> {
  return {
    PROVIDER_ORIGINS: JSON.stringify(trello.origins()),
    // The cluster runs with NODE_ENV=production, which refuses PROVIDER_ORIGINS without this.
    ALLOW_PROVIDER_ORIGINS: 'true',
    TRELLO_API_KEY: SANDBOX_TRELLO_APP.key,
    TRELLO_API_SECRET: SANDBOX_TRELLO_APP.secret,
  };
}

/** Posts exact bytes with exact headers, as a provider (or an attacker) would. */
export async function postRaw(
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers, body });
  await res.arrayBuffer();
  return res.status;
}

const sign = (secret: string, body: string, url: string) =>
  createHmac('sha1', secret)
    .update(body + url)
    .digest('base64');

/**
 * A forged delivery made from a genuine one, with a fresh action id so that, were it accepted,
 * it would leave a row of its own. Five kinds, rotating: wrong secret, signed for another
 * callback URL, body changed after signing, no signature, re-serialized body.
 */
export function forge(
  genuine: PushAttempt,
  n: number,
): { headers: Record<string, string>; body: string; deliveryAction: string } {
  const parsed = JSON.parse(genuine.body) as {
    action: { id: string; data: unknown };
    model: unknown;
  };
  const actionId = randomBytes(12).toString('hex');
  parsed.action.id = actionId;
  const body = JSON.stringify(parsed);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  switch (n % 5) {
    case 0:
      headers['x-trello-webhook'] = sign('not-the-app-secret', body, genuine.url);
      break;
    case 1:
      headers['x-trello-webhook'] = sign(SANDBOX_TRELLO_APP.secret, body, `${genuine.url}x`);
      break;
    case 2: {
      // Signed correctly, then one byte of the body changed in transit.
      headers['x-trello-webhook'] = sign(SANDBOX_TRELLO_APP.secret, body, genuine.url);
      return { headers, body: body.replace('"action":', '"action" :'), deliveryAction: actionId };
    }
    case 3:
      break;
    default: {
      // Signed over the compact bytes, sent pretty-printed: the same JSON, other bytes.
      headers['x-trello-webhook'] = sign(SANDBOX_TRELLO_APP.secret, body, genuine.url);
      return { headers, body: JSON.stringify(parsed, null, 2), deliveryAction: actionId };
    }
  }
  return { headers, body, deliveryAction: actionId };
}

/** Live items of a connection by external id. */
export async function liveTitles(
  cluster: Cluster,
  connectionId: string,
): Promise<Map<string, string>> {
  const rows = await cluster.pg.query<{ external_id: string; title: string }>(
    'SELECT external_id, title FROM items WHERE connection_id = $1 AND deleted_at IS NULL',
    [connectionId],
  );
  return new Map(rows.map((r) => [r.external_id, r.title]));
}

/** What Trello has: open cards of the boards the member sees, by card id. */
export function sourceTitles(trello: TrelloFake, boardIds: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const card of trello.data.cards.values()) {
    if (boardIds.includes(card.idBoard) && !card.closed) out.set(card.id, card.name);
  }
  return out;
}

/** The service's delivery id of a Trello delivery: `<model id>:<action id>`. */
export function deliveryIdOf(attempt: PushAttempt): string {
  const { action, model } = JSON.parse(attempt.body) as {
    action: { id: string };
    model: { id: string };
  };
  return `${model.id}:${action.id}`;
}

/** Waits until the connection's live items are exactly Trello's open cards, with their names. */
export async function itemsEqualTrello(
  cluster: Cluster,
  trello: TrelloFake,
  connectionId: string,
  boardIds: string[],
  ms = 150_000,
): Promise<void> {
  await eventually(
    async () => {
      const live = await liveTitles(cluster, connectionId);
      const source = sourceTitles(trello, boardIds);
      if (live.size !== source.size) return undefined;
      for (const [id, title] of source) if (live.get(id) !== title) return undefined;
      return true;
    },
    'the items to equal Trello',
    ms,
    500,
  );
}

/** Waits until every stored Trello delivery is processed, and returns the rows. */
export function allDeliveriesProcessed(
  cluster: Cluster,
): Promise<{ delivery_id: string; status: string; attempts: number }[]> {
  return eventually(
    async () => {
      const all = await cluster.pg.query<{ delivery_id: string; status: string; attempts: number }>(
        "SELECT delivery_id, status, attempts FROM webhook_deliveries WHERE provider = 'trello'",
      );
      return all.every((r) => r.status === 'processed') ? all : undefined;
    },
    'every stored delivery processed',
    120_000,
    500,
  );
}

/**
 * Connects Alice's Trello through the consent flow and waits for the initial sync and one
 * webhook per open board (Product, Personal). Returns the connection id and those boards.
 */
export async function connectAlice(
  cluster: Cluster,
  trello: TrelloFake,
  userId: string,
): Promise<{ connectionId: string; boards: string[] }> {
  const boards = [trello.seed!.boards.product, trello.seed!.boards.personal];
  const connectionId = await connectThroughConsent(cluster, 'trello', userId, { account: 'alice' });
  await eventually(
    async () => {
      const [{ n }] = await cluster.pg.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM webhook_subscriptions WHERE connection_id = $1 AND status = 'active'",
        [connectionId],
      );
      const runs = await cluster.pg.query<{ status: string }>(
        'SELECT status FROM sync_runs WHERE connection_id = $1',
        [connectionId],
      );
      const synced = runs.length > 0 && runs.every((r) => r.status === 'succeeded');
      return n === boards.length && synced ? true : undefined;
    },
    'the initial sync and one webhook per board',
    30_000,
  );
  return { connectionId, boards };
}
