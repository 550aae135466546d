import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebhookEventsService } from '../../src/webhooks/webhook-events.service.js';
import { eventually } from '@pdeck/integration-sdk/testing';
import { webhookTestControls } from '../support/test-webhook-provider.js';
import { startWebhookTestApp, type WebhookTestApp } from '../support/webhook-test-kit.js';

const task = (id: string, title: string, v: number) => ({
  id,
  listId: 'list-1',
  title,
  version: v,
});

/**
 * The worker writes the item changes of deliveries that reach it together in one transaction.
 * Grouping must change nothing a delivery-at-a-time worker would do: every delivery applied
 * once, the newest version of an item wins whatever the order, and a delivery that cannot be
 * written fails alone.
 */
describe('webhook worker: deliveries written in groups', () => {
  let t: WebhookTestApp;
  let groupSizes: number[];

  beforeAll(async () => {
    t = await startWebhookTestApp({ WEBHOOK_FAILURE_RATE_LIMIT: '0' });
    // A spy that records and calls through: the real transaction still runs.
    const events = t.app.get(WebhookEventsService);
    const applyItems = events.applyItems.bind(events);
    groupSizes = [];
    vi.spyOn(events, 'applyItems').mockImplementation((deliveries) => {
      groupSizes.push(deliveries.length);
      return applyItems(deliveries);
    });
  });
  afterAll(async () => {
    webhookTestControls.parseDelayMs = 0;
    webhookTestControls.abort.abort();
    vi.restoreAllMocks();
    await t?.close();
  });

  async function items(prefix: string): Promise<{ external_id: string; title: string }[]> {
    return t.db.query(
      `SELECT external_id, title FROM items WHERE connection_id = $1 AND external_id LIKE $2
       ORDER BY external_id`,
      [t.connectionId, `${prefix}%`],
    );
  }

  /** Posts all at once; parse() sleeps a little so the jobs reach the write step together. */
  async function burst(payloads: unknown[]): Promise<void> {
    webhookTestControls.parseDelayMs = 300;
    try {
      const answers = await Promise.all(payloads.map((p) => t.postSigned(p)));
      expect(answers.map((r) => r.status)).toEqual(payloads.map(() => 200));
    } finally {
      webhookTestControls.parseDelayMs = 0;
    }
  }

  it('applies every delivery of a burst once, newest version of each item winning', async () => {
    groupSizes.length = 0;
    // Ten versions of one item, shuffled, plus twenty distinct items.
    const versions = [7, 2, 9, 1, 10, 4, 6, 3, 8, 5];
    const payloads = [
      ...versions.map((v) => ({
        id: `g-same-${v}`,
        account: 'tasks-account',
        type: 'items',
        upserts: [task('g-shared', `v${v}`, v)],
      })),
      ...Array.from({ length: 20 }, (_, i) => ({
        id: `g-item-${i}`,
        account: 'tasks-account',
        type: 'items',
        upserts: [task(`g-item-${String(i).padStart(2, '0')}`, `item ${i}`, 1)],
      })),
    ];
    await burst(payloads);
    for (const p of payloads) expect(await t.waitForFinal(p.id)).toBe('processed');

    expect(await items('g-shared')).toEqual([{ external_id: 'g-shared', title: 'v10' }]);
    expect(await items('g-item-')).toHaveLength(20);
    const rows: { attempts: number; connection_ids: string[] }[] = await t.db.query(
      `SELECT attempts, connection_ids FROM webhook_deliveries
       WHERE delivery_id LIKE 'g-same-%' OR delivery_id LIKE 'g-item-%'`,
    );
    expect(rows).toHaveLength(30);
    for (const row of rows) {
      expect(row.attempts).toBe(1);
      expect(row.connection_ids).toEqual([t.connectionId]);
    }
    // The burst was written in groups, not one transaction per delivery.
    expect(Math.max(...groupSizes)).toBeGreaterThan(1);
    expect(groupSizes.reduce((a, b) => a + b, 0)).toBe(30);
  });

  it('fails only the delivery that cannot be written; the rest of its group is applied', async () => {
    groupSizes.length = 0;
    // An external id far over the unique index's row size limit: Postgres refuses the row.
    const unwritable = randomBytes(9000).toString('base64');
    const payloads = [
      { id: 'p-bad', account: 'tasks-account', type: 'items', upserts: [task(unwritable, 'x', 1)] },
      ...Array.from({ length: 9 }, (_, i) => ({
        id: `p-good-${i}`,
        account: 'tasks-account',
        type: 'items',
        upserts: [task(`p-good-${i}`, `good ${i}`, 1)],
      })),
    ];
    await burst(payloads);
    for (let i = 0; i < 9; i++) expect(await t.waitForFinal(`p-good-${i}`)).toBe('processed');
    expect(await items('p-good-')).toHaveLength(9);
    // The bad one is retried on its own (BullMQ backoff) and never marked processed.
    await eventually(
      async () => ((await t.deliveryRows('p-bad'))[0]?.attempts ?? 0) >= 2 || undefined,
      'the unwritable delivery to be attempted again',
      { timeoutMs: 20_000 },
    );
    expect((await t.deliveryRows('p-bad'))[0].status).not.toBe('processed');
    expect(Math.max(...groupSizes)).toBeGreaterThan(1);
  });
});
