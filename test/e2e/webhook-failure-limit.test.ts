import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDelivery, webhookTestControls } from '../support/test-webhook-provider.js';
import { startWebhookTestApp, unixNow, type WebhookTestApp } from '../support/webhook-test-kit.js';

const LIMIT = 5;
const FORGER = '203.0.113.7';
const NEIGHBOUR = '203.0.113.8';

/**
 * WEBHOOK_FAILURE_RATE_LIMIT: deliveries that fail verification are counted per client address
 * and refused with 429 past the limit; deliveries that verify are never counted nor refused.
 * TRUST_PROXY=loopback lets the test speak as several clients through X-Forwarded-For, as a
 * load balancer on the same host would.
 */
describe('webhook verification failures, limited per client address', () => {
  let t: WebhookTestApp;
  let n = 0;

  beforeAll(async () => {
    t = await startWebhookTestApp({
      WEBHOOK_FAILURE_RATE_LIMIT: String(LIMIT),
      TRUST_PROXY: 'loopback',
    });
  });
  afterAll(async () => {
    webhookTestControls.abort.abort();
    await t?.close();
  });

  const delivery = (id: string) =>
    JSON.stringify({
      id,
      account: 'tasks-account',
      type: 'items',
      upserts: [{ id: `task-${id}`, listId: 'list-1', title: id, version: 1 }],
    });
  const forged = (from: string) => {
    const body = delivery(`forged-${++n}`);
    const headers = signDelivery(body, unixNow(), 'not-the-signing-secret-0123456789');
    return t.post(body, { ...headers, 'x-forwarded-for': from });
  };
  const genuine = (from: string, id: string) => {
    const body = delivery(id);
    return t.post(body, { ...signDelivery(body, unixNow()), 'x-forwarded-for': from });
  };

  it('answers 401 up to the limit, then 429, while the same address keeps delivering verified ones', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await forged(FORGER)).status).toBe(401);
    const refused = await forged(FORGER);
    expect(refused.status).toBe(429);
    expect(await refused.json()).toEqual({
      statusCode: 429,
      message: 'Too many rejected deliveries; retry later',
    });

    // A provider burst from that very address: every verified delivery is accepted and applied.
    const burst = Array.from({ length: 3 * LIMIT }, (_, i) => `genuine-${i}`);
    const statuses = await Promise.all(
      burst.map((id) => genuine(FORGER, id).then((r) => r.status)),
    );
    expect(statuses).toEqual(burst.map(() => 200));
    for (const id of burst) expect(await t.waitForFinal(id)).toBe('processed');

    expect((await forged(FORGER)).status).toBe(429);
    // Nothing forged was stored.
    const [{ forgedRows }] = await t.db.query(
      'SELECT count(*)::int AS "forgedRows" FROM webhook_deliveries WHERE delivery_id LIKE \'forged-%\'',
    );
    expect(forgedRows).toBe(0);
  });

  it('counts each address on its own, and keeps no address in Redis', async () => {
    expect((await forged(NEIGHBOUR)).status).toBe(401);
    const redis = new Redis(t.config.redisUrl);
    try {
      const keys = await redis.keys(`${t.config.redisKeyPrefix}:throttle:*`);
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.join('\n')).not.toContain('203.0.113');
    } finally {
      redis.disconnect();
    }
  });
});
