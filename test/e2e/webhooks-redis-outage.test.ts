import { randomUUID } from 'node:crypto';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { QUEUE_TIMEOUT_MS } from '../../src/core/queue/queue-timeout.js';
import { WebhookSweeper } from '../../src/webhooks/webhook-sweeper.service.js';
import { CLOCK, WEBHOOKS_QUEUE } from '../../src/webhooks/webhooks.constants.js';
import { startWebhookTestApp, type WebhookTestApp } from '../support/webhook-test-kit.js';
import { RedisInstance } from '../harness/redis-instance.js';

describe('webhook receiver: Redis goes away while webhooks arrive', () => {
  // A Redis of this test's own, without persistence: a restart loses every queued job.
  let redis: RedisInstance;
  let t: WebhookTestApp;

  beforeAll(async () => {
    redis = await new RedisInstance({ appendOnly: false }).start();
    t = await startWebhookTestApp({ REDIS_URL: redis.url });
  });
  afterAll(async () => {
    if (redis && !redis.running) await redis.start().catch(() => undefined);
    await t?.close();
    await redis?.destroy();
  });

  const deliver = (id: string): Promise<Response> =>
    t.postSigned({
      id,
      account: 'tasks-account',
      type: 'items',
      upserts: [{ id: `t-${id}`, listId: 'list-1', title: id, version: 1 }],
    });

  async function statusOf(id: string): Promise<string | undefined> {
    return (await t.deliveryRows(id))[0]?.status;
  }

  it('answers 503 while Redis is down instead of waiting for it, and loses nothing stored', async () => {
    expect((await deliver('before-outage')).status).toBe(200);
    await expect.poll(() => statusOf('before-outage'), { timeout: 10_000 }).toBe('processed');
    // Let BullMQ finish the job too, so the outage does not catch it half-way (just noise).
    const queue = t.app.get<Queue>(getQueueToken(WEBHOOKS_QUEUE));
    await expect.poll(() => queue.getCompletedCount(), { timeout: 10_000 }).toBe(1);

    await redis.kill();
    const started = performance.now();
    const during = await deliver('during-outage');
    expect(during.status).toBe(503);
    // Answered while Redis is still down (it comes back only below): the request gave up on the
    // queue after its timeout instead of hanging until Redis returns. The bound is that timeout
    // plus ample room for a busy machine; how fast the 503 is, is not the point.
    expect(redis.running).toBe(false);
    expect(performance.now() - started).toBeLessThan(QUEUE_TIMEOUT_MS + 10_000);
    // Stored before the enqueue failed: the provider's retry is a duplicate of a durable row.
    expect(await statusOf('during-outage')).toBe('received');
    expect((await deliver('during-outage')).status).toBe(200);

    // Back, but empty (no persistence): whatever the queue held is gone.
    await redis.start();
    const clock = vi
      .spyOn(t.app.get(CLOCK), 'now')
      .mockImplementation(() => new Date(Date.now() + 60_000));
    try {
      await expect
        .poll(
          async () => {
            await t.app.get(WebhookSweeper).sweep();
            return statusOf('during-outage');
          },
          { timeout: 20_000, interval: 500 },
        )
        .toBe('processed');
    } finally {
      clock.mockRestore();
    }
    const items = await t.db.query(
      "SELECT external_id FROM items WHERE external_id IN ('t-before-outage', 't-during-outage') ORDER BY 1",
    );
    expect(items.map((r: { external_id: string }) => r.external_id)).toEqual([
      't-before-outage',
      't-during-outage',
    ]);
  });

  it('the sweeper re-enqueues a stored delivery whose job Redis lost', async () => {
    const id = randomUUID();
    const body = JSON.stringify({
      id: 'lost-job',
      account: 'tasks-account',
      type: 'items',
      upserts: [{ id: 't-lost', listId: 'list-1', title: 'lost', version: 1 }],
    });
    await t.db.query(
      "INSERT INTO webhook_deliveries (id, provider, delivery_id, body, received_at) VALUES ($1, $2, 'lost-job', $3, now() - interval '1 minute')",
      [id, 'test-hooks', body],
    );
    expect(await t.app.get(WebhookSweeper).sweep()).toBeGreaterThanOrEqual(1);
    await expect.poll(() => statusOf('lost-job'), { timeout: 10_000 }).toBe('processed');
  });
});
