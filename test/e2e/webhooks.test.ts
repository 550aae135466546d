import { createHash } from 'node:crypto';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLOCK, WEBHOOKS_QUEUE } from '../../src/webhooks/webhooks.constants.js';
import { until } from '@pdeck/integration-sdk/testing';
import { signDelivery, webhookTestControls } from '../support/test-webhook-provider.js';
import { startWebhookTestApp, unixNow, type WebhookTestApp } from '../support/webhook-test-kit.js';

const task = (id: string, title: string, v: number) => ({
  id,
  listId: 'list-1',
  title,
  version: v,
});

describe('webhook receiver: authenticity, dedupe and fast acknowledgement', () => {
  let t: WebhookTestApp;

  beforeAll(async () => {
    // Hundreds of forgeries from one address below: the per-address failure limit (429, tested in
    // webhook-failure-limit.test.ts) would turn most of their 401s into 429s.
    t = await startWebhookTestApp({ WEBHOOK_FAILURE_RATE_LIMIT: '0' });
  });
  afterAll(async () => {
    webhookTestControls.abort.abort();
    await t?.close();
  });

  async function item(externalId: string): Promise<{ title: string }[]> {
    return t.db.query('SELECT title FROM items WHERE connection_id = $1 AND external_id = $2', [
      t.connectionId,
      externalId,
    ]);
  }

  it('accepts a signed delivery, stores only the headers parse needs, and applies its items', async () => {
    const body = JSON.stringify({
      id: 'd-basic',
      account: 'tasks-account',
      type: 'items',
      upserts: [task('t-basic', 'Hello', 1)],
    });
    const res = await t.post(body, {
      ...signDelivery(body, unixNow()),
      authorization: 'Bearer not-stored',
    });
    expect(res.status).toBe(200);
    expect(await t.waitForFinal('d-basic')).toBe('processed');
    const [row] = await t.deliveryRows('d-basic');
    expect(Object.keys(row.headers)).toEqual(['x-test-timestamp']);
    expect(await item('t-basic')).toMatchObject([{ title: 'Hello' }]);
  });

  it('every correctly signed JSON body verifies; every mutation is a 401; never a 5xx', async () => {
    const valid = new Set<string>();
    const [{ before }] = await t.db.query('SELECT count(*)::int AS before FROM webhook_deliveries');
    // The service's clock stands still, so "301 s off" is exactly that, whatever the request takes.
    const ts = unixNow();
    const clock = vi.spyOn(t.app.get(CLOCK), 'now').mockReturnValue(new Date(ts * 1000));
    const layouts = fc.constantFrom<[string | number, string, string]>(
      [0, '', ''],
      [2, '', '\n'],
      ['\t', ' ', ''],
      [1, '\r\n ', '  '],
    );
    await fc.assert(
      fc.asyncProperty(
        fc.jsonValue({ stringUnit: 'grapheme', maxDepth: 4 }),
        layouts,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.boolean(),
        async (value, [indent, lead, trail], at, flip, late) => {
          const body = Buffer.from(`${lead}${JSON.stringify(value, null, indent)}${trail}`, 'utf8');
          const headers = signDelivery(body, ts);
          expect((await t.post(body, headers)).status).toBe(200);
          valid.add(expectedDeliveryId(value, body));

          const mutated = Buffer.from(body);
          mutated[at % mutated.length] ^= flip;
          expect((await t.post(mutated, headers)).status).toBe(401);

          const sig = headers['x-test-signature'];
          const i = 3 + (at % (sig.length - 3));
          const forged = sig.slice(0, i) + (sig[i] === '0' ? '1' : '0') + sig.slice(i + 1);
          expect((await t.post(body, { ...headers, 'x-test-signature': forged })).status).toBe(401);

          expect((await t.post(body, signDelivery(body, ts + (late ? 301 : -301)))).status).toBe(
            401,
          );
        },
      ),
      { numRuns: 200 },
    );
    // The window's edge itself still verifies.
    const edge = JSON.stringify({ id: 'd-edge' });
    expect((await t.post(edge, signDelivery(edge, ts + 300))).status).toBe(200);
    expect((await t.post(edge, signDelivery(edge, ts - 300))).status).toBe(200);
    clock.mockRestore();
    valid.add('d-edge');
    const [{ after }] = await t.db.query('SELECT count(*)::int AS after FROM webhook_deliveries');
    // Only the authentic deliveries were stored (identical bodies share one delivery id).
    expect(after - before).toBe(valid.size);
  }, 180_000);

  it('answers a rejected delivery with a generic 401 body and stores nothing', async () => {
    const body = JSON.stringify({ id: 'd-forged', account: 'tasks-account' });
    const res = await t.post(body, signDelivery(body, unixNow(), 'wrong-secret'));
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ statusCode: 401, message: 'Invalid webhook signature' });
    expect((await t.post(body, {})).status).toBe(401);
    expect(await t.deliveryRows('d-forged')).toHaveLength(0);
  });

  it('ten concurrent copies of one delivery: all 2xx, one row, one job, one item', async () => {
    const body = JSON.stringify({
      id: 'd-copies',
      account: 'tasks-account',
      type: 'items',
      upserts: [task('t-copies', 'Once', 1)],
    });
    const headers = signDelivery(body, unixNow());
    const answers = await Promise.all(Array.from({ length: 10 }, () => t.post(body, headers)));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(await t.waitForFinal('d-copies')).toBe('processed');
    const rows = await t.deliveryRows('d-copies');
    expect(rows).toHaveLength(1);
    expect(rows[0].attempts).toBe(1);
    // The queue has finished with it: its one job (id = the row id) completed on the first
    // attempt, and no other job is waiting, delayed or running that could handle it again.
    const queue = t.app.get<Queue>(getQueueToken(WEBHOOKS_QUEUE));
    await until(
      async () => (await queue.getJob(rows[0].id))?.finishedOn !== undefined,
      'the job of d-copies to be marked finished',
    );
    const job = (await queue.getJob(rows[0].id))!;
    expect(await job.getState()).toBe('completed');
    expect(job.attemptsMade).toBe(1);
    expect(await queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized')).toEqual({
      waiting: 0,
      delayed: 0,
      active: 0,
      prioritized: 0,
    });
    expect(webhookTestControls.parsed.filter((id) => id === 'd-copies')).toHaveLength(1);
    expect(await item('t-copies')).toHaveLength(1);
  });

  it('acknowledges deliveries while the processor is busy with earlier ones (10 s per job)', async () => {
    // How fast an acknowledgement is, is measured by the benchmark (npm run bench, webhook ack
    // latency). Here: the answer never waits for processing. Each delivery is answered while
    // its own processing, and that of the ones before it, is still asleep in parse().
    webhookTestControls.parseDelayMs = 10_000;
    const ids = ['d-slow-1', 'd-slow-2', 'd-slow-3'];
    try {
      for (const [n, id] of ids.entries()) {
        const res = await t.postSigned({
          id,
          account: 'tasks-account',
          type: 'items',
          upserts: [task(`t-${id}`, 'Slow', 1)],
        });
        expect(res.status).toBe(200);
        // The earlier deliveries are still being processed (parsed, not finished).
        for (const earlier of ids.slice(0, n)) {
          expect(webhookTestControls.parsed).toContain(earlier);
          expect((await t.deliveryRows(earlier))[0].status).toBe('received');
        }
        await until(
          () => webhookTestControls.parsed.includes(id),
          `${id} to be picked up by the processor`,
        );
      }
    } finally {
      webhookTestControls.parseDelayMs = 0;
      webhookTestControls.abort.abort();
      webhookTestControls.abort = new AbortController();
    }
    for (const id of ids) expect(await t.waitForFinal(id)).toBe('processed');
  });
});

/** The provider's rule: the body's string `id`, else a hash of the exact bytes. */
function expectedDeliveryId(value: unknown, body: Buffer): string {
  const id = (value as { id?: unknown } | null)?.id;
  return typeof id === 'string' && id
    ? id
    : `sha256:${createHash('sha256').update(body).digest('hex')}`;
}
