import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_API_TOKEN } from '../support/test-app.js';
import {
  createConnection,
  startWebhookTestApp,
  unixNow,
  type WebhookTestApp,
} from '../support/webhook-test-kit.js';
import { signDelivery } from '../support/test-webhook-provider.js';
import { eventually } from '@pdeck/integration-sdk/testing';

describe('disconnect with purgeItems also deletes the connection webhook deliveries', () => {
  let t: WebhookTestApp;

  beforeAll(async () => {
    t = await startWebhookTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  async function deliver(deliveryId: string): Promise<void> {
    const body = JSON.stringify({
      id: deliveryId,
      account: 'tasks-account',
      type: 'items',
      upserts: [{ id: `t-${deliveryId}`, listId: 'list-1', title: deliveryId, version: 1 }],
    });
    expect((await t.post(body, signDelivery(body, unixNow()))).status).toBe(200);
    expect(await t.waitForFinal(deliveryId)).toBe('processed');
  }

  async function routedTo(deliveryId: string): Promise<string[] | undefined> {
    const [row] = await t.db.query(
      "SELECT connection_ids::text[] AS ids FROM webhook_deliveries WHERE provider = 'test-hooks' AND delivery_id = $1",
      [deliveryId],
    );
    return (row?.ids as string[] | undefined)?.sort();
  }

  const disconnect = (id: string, purgeItems: boolean): Promise<Response> =>
    fetch(`${t.baseUrl}/v1/connections/${id}?purgeItems=${purgeItems}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
    });

  it('records the connections a delivery was routed to, keeps them on a plain disconnect, deletes them with purgeItems', async () => {
    // Two connections of the same account (two users): a delivery routes to both.
    const other = await createConnection(t, 'user-other');
    await deliver('shared-1');
    expect(await routedTo('shared-1')).toEqual([t.connectionId, other].sort());

    // A delivery of some other connection, stored and processed long ago.
    const stranger = randomUUID();
    await t.db.query(
      `INSERT INTO webhook_deliveries (id, provider, delivery_id, status, body, processed_at, connection_ids)
       VALUES ($1, 'test-hooks', 'stranger-1', 'processed', '{}', now(), ARRAY[$2::uuid])`,
      [randomUUID(), stranger],
    );

    // Without purgeItems nothing is deleted.
    expect((await disconnect(other, false)).status).toBe(200);
    await deliver('after-plain-disconnect');
    expect(await routedTo('after-plain-disconnect')).toEqual([t.connectionId]);
    expect(await routedTo('shared-1')).toBeDefined();

    expect((await disconnect(t.connectionId, true)).status).toBe(200);
    await eventually(
      async () => ((await routedTo('after-plain-disconnect')) === undefined ? true : undefined),
      "the purged connection's deliveries to be deleted",
    );
    // Shared with a disconnected (not purged) connection: goes with the purged one.
    expect(await routedTo('shared-1')).toBeUndefined();
    expect(await routedTo('stranger-1')).toEqual([stranger]);
  });
});
