import { randomUUID } from 'node:crypto';
import { getQueueToken } from '@nestjs/bullmq';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CONNECTION_EVENTS, type ConnectionEvent } from '../../src/auth/connection-events.js';
import { DisconnectService } from '../../src/auth/disconnect.service.js';
import { TokenService } from '../../src/auth/token.service.js';
import type { WebhookHandler } from '@pdeck/integration-sdk';
import { SubscriptionsService } from '../../src/webhooks/subscriptions.service.js';
import { WebhookSubscriptionsStore } from '../../src/webhooks/webhook-subscriptions.store.js';
import {
  CLOCK,
  RENEWALS_SCHEDULER_ID,
  WEBHOOK_SUBSCRIPTIONS_QUEUE,
} from '../../src/webhooks/webhooks.constants.js';
import { FakeTasksApi } from '../support/fake-tasks-api.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { TASKS_ORIGIN } from '../support/test-sync-provider.js';
import {
  HOOKS_SIGNING_SECRET,
  signDelivery,
  TEST_HOOKS_ID,
  type TestDeliveryBody,
  TestWebhookProvider,
  WATCH_ORIGIN,
} from '../support/test-webhook-provider.js';
import { createConnection, FakeWatchApi, unixNow } from '../support/webhook-test-kit.js';
import { RESOURCES_REMOVED_EVENT } from '../../src/sync/sync.constants.js';

interface SubRow {
  id: string;
  resource_id: string;
  external_id: string;
  secret: string;
  callback_url: string;
  expires_at: Date;
}

describe('webhook subscriptions follow the connection', () => {
  let t: TestApp;
  let tasks: FakeTasksApi;
  let watch: FakeWatchApi;
  let db: DataSource;
  let connectionId: string;
  let event: ConnectionEvent;

  beforeAll(async () => {
    tasks = new FakeTasksApi();
    watch = new FakeWatchApi();
    await Promise.all([tasks.start(), watch.start()]);
    t = await startTestApp({
      integrations: [TestWebhookProvider],
      env: {
        PROVIDER_ORIGINS: JSON.stringify({
          [TASKS_ORIGIN]: tasks.origin,
          [WATCH_ORIGIN]: watch.origin,
        }),
      },
      configure: (config) => {
        config.providerCredentials[TEST_HOOKS_ID] = {
          clientId: 'cid',
          clientSecret: 'csecret',
          signingSecret: HOOKS_SIGNING_SECRET,
        };
      },
    });
    db = t.app.get(DataSource);
    connectionId = await createConnection(t, 'user-subs');
    event = { connectionId, userId: 'user-subs', provider: TEST_HOOKS_ID };
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([tasks?.close(), watch?.close()]);
  });

  const rows = (): Promise<SubRow[]> =>
    db.query('SELECT * FROM webhook_subscriptions WHERE connection_id = $1 ORDER BY resource_id', [
      connectionId,
    ]);

  async function connected(name: 'created' | 'reconnected'): Promise<SubRow[]> {
    await t.app.get(EventEmitter2).emitAsync(CONNECTION_EVENTS[name], event);
    await expect.poll(async () => (await rows()).length, { timeout: 10_000 }).toBe(2);
    return rows();
  }

  it('subscribes every resource on connect, storing the secret encrypted', async () => {
    const subs = await connected('created');
    expect(subs.map((s) => s.resource_id)).toEqual(['list-1', 'list-2']);
    for (const sub of subs) {
      const issued = watch.watches.get(sub.external_id)!;
      expect(issued.address).toBe(`${t.baseUrl}/v1/webhooks/${TEST_HOOKS_ID}`);
      expect(sub.callback_url).toBe(issued.address);
      expect(sub.secret).not.toContain(issued.token);
      const stored = await t.app.get(WebhookSubscriptionsStore).get(sub.id);
      expect(stored!.secret).toBe(issued.token);
      expect(sub.expires_at.getTime()).toBe(issued.expiration);
    }
    const queue = t.app.get<Queue>(getQueueToken(WEBHOOK_SUBSCRIPTIONS_QUEUE));
    expect(await queue.getJobScheduler(RENEWALS_SCHEDULER_ID)).toMatchObject({ every: 600_000 });
  });

  it('renews subscriptions once the clock is inside the margin, with a new expiry', async () => {
    const subscriptions = t.app.get(SubscriptionsService);
    const before = await rows();
    expect(await subscriptions.queueDueRenewals()).toBe(0);
    const clock = vi.spyOn(t.app.get(CLOCK), 'now');
    try {
      // 55 minutes later: 5 minutes before expiry, inside the 10-minute margin.
      clock.mockReturnValue(new Date(Date.now() + 55 * 60_000));
      expect(await subscriptions.queueDueRenewals()).toBe(2);
      await expect
        .poll(() => watch.calls.filter((c) => c.op === 'renew' && c.status === 200).length, {
          timeout: 10_000,
        })
        .toBe(2);
      await expect
        .poll(
          async () =>
            (await rows()).every((r, i) => r.expires_at.getTime() > before[i].expires_at.getTime()),
          { timeout: 10_000 },
        )
        .toBe(true);
      const after = await rows();
      expect(after.map((r) => r.external_id)).toEqual(before.map((r) => r.external_id));
      for (const sub of after)
        expect(sub.expires_at.getTime()).toBe(watch.watches.get(sub.external_id)!.expiration);
    } finally {
      clock.mockRestore();
    }
  });

  it('subscribes again, on the renewal round, a connection whose subscriptions were lost', async () => {
    // As if the subscribe job had never been queued at connect time.
    await db.query('DELETE FROM webhook_subscriptions WHERE connection_id = $1', [connectionId]);
    expect(await t.app.get(SubscriptionsService).queueDueRenewals()).toBe(1);
    await expect
      .poll(async () => (await rows()).map((r) => r.resource_id), { timeout: 10_000 })
      .toEqual(['list-1', 'list-2']);
  });

  it('replaces subscriptions a provider cannot extend: new one first, then the old one stopped', async () => {
    const handler = t.app.get(TestWebhookProvider).webhooks as WebhookHandler & { renew?: unknown };
    const before = await rows();
    handler.renew = undefined;
    const clock = vi.spyOn(t.app.get(CLOCK), 'now');
    try {
      clock.mockReturnValue(new Date(Date.now() + 200 * 60_000));
      expect(await t.app.get(SubscriptionsService).queueDueRenewals()).toBe(2);
      await expect
        .poll(
          async () =>
            (await rows()).filter((r) => !before.some((b) => b.external_id === r.external_id))
              .length,
          { timeout: 10_000 },
        )
        .toBe(2);
      await expect.poll(async () => (await rows()).length, { timeout: 10_000 }).toBe(2);
      for (const old of before) expect(watch.watches.has(old.external_id)).toBe(false);
      expect((await rows()).map((r) => r.resource_id)).toEqual(['list-1', 'list-2']);
    } finally {
      clock.mockRestore();
      delete handler.renew;
    }
  });

  async function deliver(body: TestDeliveryBody): Promise<void> {
    const raw = JSON.stringify({ account: 'tasks-account', ...body });
    const res = await fetch(`${t.baseUrl}/v1/webhooks/${TEST_HOOKS_ID}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signDelivery(raw, unixNow()) },
      body: raw,
    });
    expect(res.status).toBe(200);
  }

  it('renews at once a subscription the provider flags in a delivery (lifecycle notification)', async () => {
    const [first, second] = await rows();
    const renewals = (id: string) =>
      watch.calls.filter((c) => c.op === 'renew' && c.id === id).length;
    const [firstBefore, secondBefore] = [renewals(first.external_id), renewals(second.external_id)];
    await deliver({ id: 'attention-renew', type: 'attention', subscription: first.external_id });
    await expect.poll(() => renewals(first.external_id), { timeout: 10_000 }).toBe(firstBefore + 1);
    // Only the flagged one: the other subscription was not touched.
    expect(renewals(second.external_id)).toBe(secondBefore);
    expect((await rows()).map((r) => r.external_id)).toEqual([
      first.external_id,
      second.external_id,
    ]);
  });

  it('re-creates a subscription the provider says it removed, and ignores ids it does not own', async () => {
    const [first, second] = await rows();
    const subscriptions = t.app.get(SubscriptionsService);
    // Not this connection's subscription, or no subscription at all: nothing is queued.
    expect(
      await subscriptions.queueAttention(TEST_HOOKS_ID, randomUUID(), first.external_id, 'replace'),
    ).toBe(false);
    expect(
      await subscriptions.queueAttention(TEST_HOOKS_ID, connectionId, 'no-such-watch', 'replace'),
    ).toBe(false);
    await deliver({
      id: 'attention-replace',
      type: 'attention',
      subscription: first.external_id,
      action: 'replace',
    });
    // A new subscription for the same resource, the old one stopped; the other one kept.
    await expect
      .poll(async () => (await rows()).map((r) => r.external_id).includes(first.external_id), {
        timeout: 10_000,
      })
      .toBe(false);
    const after = await rows();
    expect(after.map((r) => r.resource_id)).toEqual([first.resource_id, second.resource_id]);
    expect(after[1].external_id).toBe(second.external_id);
    expect(watch.watches.has(after[0].external_id)).toBe(true);
    expect(watch.calls).toContainEqual({ op: 'stop', id: first.external_id, status: 200 });
  });

  it('stops the subscription of a resource the connection no longer lists', async () => {
    const [gone] = (await rows()).filter((r) => r.resource_id === 'list-2');
    await t.app.get(EventEmitter2).emitAsync(RESOURCES_REMOVED_EVENT, {
      connectionId,
      provider: TEST_HOOKS_ID,
      resourceIds: ['list-2'],
    });
    expect((await rows()).map((r) => r.resource_id)).toEqual(['list-1']);
    expect(watch.calls).toContainEqual({ op: 'stop', id: gone.external_id, status: 200 });
  });

  it('stops the subscriptions at the provider and deletes them on disconnect', async () => {
    const live = await rows();
    await t.app.get(DisconnectService).disconnect(connectionId);
    expect(await rows()).toHaveLength(0);
    for (const sub of live) {
      expect(watch.calls).toContainEqual({ op: 'stop', id: sub.external_id, status: 200 });
      expect(watch.watches.has(sub.external_id)).toBe(false);
    }
  });

  it('subscribes again on reconnect and stops them when the grant dies', async () => {
    // The same account again: the row is re-activated with fresh credentials.
    expect(await createConnection(t, 'user-subs')).toBe(connectionId);
    const live = await connected('reconnected');
    expect(await t.app.get(TokenService).markNeedsReauth(connectionId, 'invalid_grant')).toBe(true);
    expect(await rows()).toHaveLength(0);
    for (const sub of live) expect(watch.watches.has(sub.external_id)).toBe(false);
  });
});
