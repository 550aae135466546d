import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ItemsChangedData, PdeckEventEnvelope } from '../../src/events/pdeck-event.js';
import { eventually } from '@pdeck/integration-sdk/testing';
import { PdeckReceiver } from '../support/events-test-kit.js';
import { FakeTasksApi } from '../support/fake-tasks-api.js';
import { TEST_API_TOKEN } from '../support/test-app.js';
import { TASKS_ORIGIN } from '../support/test-sync-provider.js';
import { startWebhookTestApp, type WebhookTestApp } from '../support/webhook-test-kit.js';

const auth = { authorization: `Bearer ${TEST_API_TOKEN}`, 'content-type': 'application/json' };

/**
 * The notification call sites, end to end through the outbox: sync pages, webhook item changes
 * and a disconnect reach PDeck signed, once each, and their `items.changed` ranges cover every
 * change the feed shows.
 */
describe('notifications to PDeck from the running service', () => {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const receiver = new PdeckReceiver(secret);
  let tasks: FakeTasksApi;
  let t: WebhookTestApp;

  beforeAll(async () => {
    await receiver.start();
    tasks = new FakeTasksApi();
    tasks.seed(120); // three pages of 50 per list
    await tasks.start();
    t = await startWebhookTestApp({
      PDECK_EVENTS_URL: receiver.url,
      PDECK_EVENTS_SECRET: secret,
      PROVIDER_ORIGINS: JSON.stringify({ [TASKS_ORIGIN]: tasks.origin }),
    });
  });
  afterAll(async () => {
    await t?.close();
    await tasks?.close();
    await receiver.stop();
  });

  const received = (): (PdeckEventEnvelope & { id: string })[] =>
    receiver.requests
      .filter((r) => r.valid && r.answered === 200)
      .map((r) => ({ ...JSON.parse(r.body), id: String(r.headers['webhook-id']) }));
  const itemsChanged = () =>
    received()
      .filter((e) => e.type === 'items.changed')
      .map((e) => ({ id: e.id, ...(e.data as ItemsChangedData) }));
  const changeSeqs = async (): Promise<bigint[]> =>
    (
      await t.db.query('SELECT change_seq FROM items WHERE connection_id = $1', [t.connectionId])
    ).map((r: { change_seq: string }) => BigInt(r.change_seq));
  const outboxSize = async (): Promise<number> =>
    (await t.db.query('SELECT count(*)::int AS n FROM event_outbox'))[0].n;

  /** Every change_seq of the connection's items lies in the range of some notification. */
  async function covered(): Promise<true | undefined> {
    const ranges = itemsChanged().map((e) => [BigInt(e.fromChangeSeq), BigInt(e.toChangeSeq)]);
    const seqs = await changeSeqs();
    return seqs.length > 0 && seqs.every((s) => ranges.some(([from, to]) => from <= s && s <= to))
      ? true
      : undefined;
  }

  it('notifies every committed sync page, with ranges that cover the feed', async () => {
    const res = await fetch(`${t.baseUrl}/v1/connections/${t.connectionId}/sync`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ mode: 'full' }),
    });
    expect(res.status).toBe(202);
    await eventually(covered, 'notifications covering all 240 items', { timeoutMs: 30_000 });
    expect(await changeSeqs()).toHaveLength(240);
    const events = itemsChanged();
    expect(
      events.every((e) => e.connectionId === t.connectionId && e.userId === 'user-hooks'),
    ).toBe(true);
    expect(events.reduce((n, e) => n + e.upserted, 0)).toBe(240);
    // One id per event, each delivered once (retries would repeat the id).
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    for (const e of events) expect(e.id).toMatch(/^evt_[0-9a-f-]{36}$/);
    await eventually(async () => ((await outboxSize()) === 0 ? true : undefined), 'empty outbox');
  });

  it('notifies item changes applied from a webhook delivery, once', async () => {
    const before = itemsChanged().length;
    expect(
      (
        await t.postSigned({
          id: 'notify-1',
          account: 'tasks-account',
          type: 'items',
          upserts: [{ id: 't-notify', listId: 'list-1', title: 'From a webhook', version: 1 }],
        })
      ).status,
    ).toBe(200);
    expect(await t.waitForFinal('notify-1')).toBe('processed');
    const [{ change_seq }] = await t.db.query(
      "SELECT change_seq FROM items WHERE external_id = 't-notify'",
    );
    const event = await eventually(
      () =>
        itemsChanged()
          .slice(before)
          .find((e) => e.fromChangeSeq === change_seq),
      'the webhook change notified',
    );
    expect(event).toMatchObject({ upserted: 1, deleted: 0, toChangeSeq: change_seq });
  });

  it('notifies a disconnect', async () => {
    const res = await fetch(`${t.baseUrl}/v1/connections/${t.connectionId}`, {
      method: 'DELETE',
      headers: auth,
    });
    expect(res.status).toBe(200);
    const deleted = await eventually(
      () => received().find((e) => e.type === 'connection.deleted'),
      'connection.deleted',
    );
    expect(deleted.data).toMatchObject({ connectionId: t.connectionId, userId: 'user-hooks' });
  });
});
