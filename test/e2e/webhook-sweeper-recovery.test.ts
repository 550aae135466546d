import { randomUUID } from 'node:crypto';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookSweeper, SWEEP_PAGE_SIZE } from '../../src/webhooks/webhook-sweeper.service.js';
import { WEBHOOKS_QUEUE, type WebhookJobData } from '../../src/webhooks/webhooks.constants.js';
import { eventually } from '@pdeck/integration-sdk/testing';
import { startWebhookTestApp, type WebhookTestApp } from '../support/webhook-test-kit.js';

describe('webhook sweeper: every waiting delivery is reached and recovered', () => {
  let t: WebhookTestApp;
  let queue: Queue<WebhookJobData>;
  let sweeper: WebhookSweeper;

  beforeAll(async () => {
    t = await startWebhookTestApp();
    queue = t.app.get<Queue<WebhookJobData>>(getQueueToken(WEBHOOKS_QUEUE));
    sweeper = t.app.get(WebhookSweeper);
  });
  afterAll(async () => {
    await t?.close();
  });

  const body = (deliveryId: string): string =>
    JSON.stringify({
      id: deliveryId,
      account: 'tasks-account',
      type: 'items',
      upserts: [{ id: `t-${deliveryId}`, listId: 'list-1', title: deliveryId, version: 1 }],
    });

  /** A stored delivery still waiting, as the receiver leaves it, that arrived `age` ago. */
  async function storeWaiting(rowId: string, deliveryId: string, age: string): Promise<void> {
    await t.db.query(
      `INSERT INTO webhook_deliveries (id, provider, delivery_id, body, received_at)
       VALUES ($1, 'test-hooks', $2, $3, now() - $4::interval)`,
      [rowId, deliveryId, body(deliveryId), age],
    );
  }

  const statusOf = async (deliveryId: string): Promise<string | undefined> =>
    (await t.deliveryRows(deliveryId))[0]?.status;

  it('replaces a job that sits in the failed set while its row still waits, and the row gets processed', async () => {
    // A job that failed for good without finishing its row: in production, the last attempt and
    // the failure record both hit a Postgres outage; here its payload names no row it can read.
    // Kept as failed for a week, it makes a plain re-add of the same job id a silent no-op.
    const rowId = randomUUID();
    await queue.add('delivery', { deliveryId: 'not-a-row-id' }, { jobId: rowId, attempts: 1 });
    await eventually(
      async () => ((await queue.getJobState(rowId)) === 'failed' ? true : undefined),
      'the job to land in the failed set',
    );
    // The row exists only now, so nothing could have processed it before.
    await storeWaiting(rowId, 'behind-a-failed-job', '1 minute');

    expect(await sweeper.sweep()).toBeGreaterThanOrEqual(1);
    await eventually(
      async () => ((await statusOf('behind-a-failed-job')) === 'processed' ? true : undefined),
      'the delivery to be processed',
      { timeoutMs: 10_000, debug: () => queue.getJobState(rowId) },
    );
    const [item] = await t.db.query(
      "SELECT title FROM items WHERE external_id = 't-behind-a-failed-job'",
    );
    expect(item).toEqual({ title: 'behind-a-failed-job' });
  });

  it(`reaches a newer lost delivery behind ${SWEEP_PAGE_SIZE} older ones it cannot move on, within two sweeps`, async () => {
    // A full page of older waiting rows whose jobs exist but will not run for an hour (delayed,
    // as behind a backoff or a backlog): the sweeper leaves them alone. Their jobs go in first so
    // that no sweep can ever see these rows without one.
    const stuck = Array.from({ length: SWEEP_PAGE_SIZE }, () => randomUUID());
    await queue.addBulk(
      stuck.map((id) => ({
        name: 'delivery',
        data: { deliveryId: id },
        opts: { jobId: id, delay: 3_600_000 },
      })),
    );
    await t.db.query(
      `INSERT INTO webhook_deliveries (id, provider, delivery_id, body, received_at)
       SELECT id, 'test-hooks', 'stuck-' || n, '{}', now() - interval '1 hour' + n * interval '1 ms'
       FROM unnest($1::uuid[]) WITH ORDINALITY AS s(id, n)`,
      [stuck],
    );
    // Newer, and its job is lost (never made it to Redis).
    await storeWaiting(randomUUID(), 'newer-lost-job', '1 minute');

    // With N rows ahead of it, a page of 500 per pass reaches it within N / 500 + 1 passes.
    for (let pass = 0; pass < 2; pass++) await sweeper.sweep();
    await eventually(
      async () => ((await statusOf('newer-lost-job')) === 'processed' ? true : undefined),
      'the newer delivery to be processed',
      { timeoutMs: 10_000 },
    );
    // The stuck ones were left to their delayed jobs, not replaced.
    const [{ waiting }] = await t.db.query(
      "SELECT count(*)::int AS waiting FROM webhook_deliveries WHERE delivery_id LIKE 'stuck-%' AND status = 'received'",
    );
    expect(waiting).toBe(SWEEP_PAGE_SIZE);
    expect(await queue.getDelayedCount()).toBe(SWEEP_PAGE_SIZE);
  });
});
