import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { autoConsent, connectAndConfirm, eventually } from '@pdeck/integration-sdk/testing';
import { ALICE, OutlookFake, SANDBOX_OUTLOOK_CLIENT } from '@pdeck/plugin-outlook-calendar/sandbox';
import { ConnectionStore } from '../../src/auth/connection-store.service.js';
import { SubscriptionsService } from '../../src/webhooks/subscriptions.service.js';
import { CLOCK } from '../../src/webhooks/webhooks.constants.js';
import { startTestApp, TEST_API_TOKEN, type TestApp } from '../support/test-app.js';
import { idsInWindow, outlookFakeEnv } from '../support/outlook-fake-env.js';
import { expireStoredAccessToken } from '../support/active-connection.js';

const RETURN_ORIGIN = 'http://127.0.0.1:5999';
const USER = 'pdeck-user-outlook';
const auth = { authorization: `Bearer ${TEST_API_TOKEN}`, 'content-type': 'application/json' };
const wait = (timeoutMs = 15_000) => ({ timeoutMs });

describe('Outlook Calendar plugin end to end, against the Graph fake over HTTP', () => {
  let fake: OutlookFake;
  let t: TestApp;
  let db: DataSource;
  let connectionId: string;

  beforeAll(async () => {
    fake = new OutlookFake({ allowHttpLoopback: true });
    await fake.start();
    t = await startTestApp({ env: { ...outlookFakeEnv(fake), RETURN_TO_ORIGINS: RETURN_ORIGIN } });
    db = t.app.get(DataSource);
  });
  afterAll(async () => {
    await t?.close();
    await fake?.stop();
  });

  type Run = { id: string; status: string; trigger: string; mode: string };
  const runs = (): Promise<Run[]> =>
    db.query(
      'SELECT id, status, trigger, mode FROM sync_runs WHERE connection_id = $1 ORDER BY created_at',
      [connectionId],
    );
  const idle = async () => {
    const all = await runs();
    return all.length > 0 && all.every((r) => ['succeeded', 'partial', 'failed'].includes(r.status))
      ? true
      : undefined;
  };
  /** Quiet: no notification in flight, every delivery processed, every run ended. */
  const settle = async () => {
    await fake.whenIdle();
    await eventually(
      async () => {
        const [{ n }] = await db.query(
          "SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'received'",
        );
        return n === 0 ? true : undefined;
      },
      'deliveries processed',
      wait(),
    );
    await eventually(idle, 'runs to settle', wait(30_000));
  };
  const items = (): Promise<{ external_id: string; title: string; deleted: boolean }[]> =>
    db.query(
      `SELECT external_id, title, deleted_at IS NOT NULL AS deleted FROM items
       WHERE connection_id = $1 ORDER BY external_id`,
      [connectionId],
    );
  const liveIds = async () => (await items()).filter((i) => !i.deleted).map((i) => i.external_id);
  const sourceIds = async () => {
    const [row] = await db.query('SELECT cursor FROM sync_states WHERE connection_id = $1', [
      connectionId,
    ]);
    return idsInWindow(fake, ALICE, row.cursor);
  };
  const subscription = async () => {
    const [row] = await db.query(
      "SELECT id, external_id, expires_at FROM webhook_subscriptions WHERE connection_id = $1 AND status = 'active'",
      [connectionId],
    );
    return row as { id: string; external_id: string; expires_at: Date } | undefined;
  };
  const webhook = (body: string, query = '') =>
    fetch(`${t.baseUrl}/v1/webhooks/outlook-calendar${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });

  it('connects with PKCE (S256) and imports the default calendar inside the window', async () => {
    let authorizeUrl: URL | undefined;
    const confirmed = await connectAndConfirm(t, {
      provider: 'outlook-calendar',
      userId: USER,
      returnTo: `${RETURN_ORIGIN}/connected`,
      consent: autoConsent(ALICE, (url) => (authorizeUrl = new URL(url))),
    });
    connectionId = confirmed.id;
    expect(confirmed).toMatchObject({ status: 'active', accountLabel: ALICE });
    expect(confirmed.accountId).toBe(fake.mailbox(ALICE).user.id);
    const q = authorizeUrl!.searchParams;
    expect(authorizeUrl!.pathname).toBe('/common/oauth2/v2.0/authorize');
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('scope')!.split(' ').sort()).toEqual([
      'Calendars.Read',
      'User.Read',
      'offline_access',
    ]);
    // The token exchange carried the verifier: the fake checks it against the S256 challenge.
    const stats = fake.oauth.stats() as {
      tokenRequests: Record<string, number>;
      tokenErrors: object;
    };
    expect(stats.tokenRequests.authorization_code).toBe(1);
    expect(stats.tokenErrors).toEqual({});
    expect((await t.credentials(connectionId)).refreshToken).toBeTruthy();

    await eventually(idle, 'the initial full sync', wait(30_000));
    expect((await runs())[0]).toMatchObject({
      mode: 'full',
      trigger: 'connect',
      status: 'succeeded',
    });
    const live = await liveIds();
    expect(live).toEqual(await sourceIds());
    expect(live.length).toBeGreaterThan(5);
    const titles = (await items()).map((i) => i.title);
    expect(titles).not.toContain('Long ago'); // outside the window
    const [offsite] = await db.query(
      "SELECT all_day, status FROM items WHERE connection_id = $1 AND title = 'Offsite'",
      [connectionId],
    );
    expect(offsite).toEqual({ all_day: true, status: 'confirmed' });
    const [cancelled] = await db.query(
      "SELECT status FROM items WHERE connection_id = $1 AND title = 'Cancelled sync'",
      [connectionId],
    );
    expect(cancelled.status).toBe('cancelled');
    // Pages of 200 at most: the whole window fit one page and ended with a deltaLink.
    const [state] = await db.query(
      'SELECT cursor, stage FROM sync_states WHERE connection_id = $1',
      [connectionId],
    );
    expect(state.stage).toBe('incremental');
    expect(state.cursor.deltaLink).toMatch(
      /^https:\/\/graph\.microsoft\.com\/v1\.0\/me\/calendarView\/delta\?\$deltatoken=/,
    );
  });

  it('subscribes after the validation handshake on both URLs, answered 200 text/plain by the receiver', async () => {
    const sub = await eventually(subscription, 'an active subscription', wait());
    const [graphSub] = fake.subscriptions.active(fake.mailbox(ALICE));
    expect(graphSub.id).toBe(sub.external_id);
    const callback = `${t.baseUrl}/v1/webhooks/outlook-calendar`;
    expect(graphSub).toMatchObject({
      notificationUrl: callback,
      lifecycleNotificationUrl: callback,
      resource: 'me/events',
    });
    expect(graphSub.changeType.sort()).toEqual(['created', 'deleted', 'updated']);
    expect(fake.subscriptions.validations.filter((v) => v.ok).map((v) => v.url)).toEqual([
      callback,
      callback,
    ]);
    // The handshake as Graph sends it: token in the query, text/plain, empty body.
    const token =
      'Validation: Testing client application reachability for subscription Request-Id: 1f2e';
    const deliveries = async (): Promise<number> =>
      (await db.query('SELECT count(*)::int AS n FROM webhook_deliveries'))[0].n;
    const stored = await deliveries();
    const res = await fetch(`${callback}?validationToken=${encodeURIComponent(token)}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe(token);
    // Answered by the receiver itself, within Graph's 10 s: nothing stored, no worker involved.
    expect(await deliveries()).toBe(stored);
  });

  it('a change notification runs an incremental sync through the deltaLink', async () => {
    await settle();
    const before = { ...fake.delta.counts };
    const event = fake.createEvent(ALICE, {
      subject: 'Pushed planning',
      start: new Date(Date.now() + 2 * 86_400_000).toISOString(),
    });
    await eventually(
      async () => ((await liveIds()).includes(event.id) ? true : undefined),
      'the pushed event',
      wait(),
    );
    await settle();
    expect(fake.delta.counts.delta).toBeGreaterThan(before.delta);
    expect(fake.delta.counts.initial).toBe(before.initial);
    expect((await runs()).at(-1)).toMatchObject({
      trigger: 'webhook',
      mode: 'incremental',
      status: 'succeeded',
    });
  });

  it('an expired delta token (410 SyncStateNotFound) resyncs fully: nothing lost, nothing twice', async () => {
    await settle();
    const initialBefore = fake.delta.counts.initial;
    fake.expireDeltaTokens(ALICE);
    const gone = (await liveIds())[0];
    fake.mailbox(ALICE).delete(gone); // no notification: only the resync can notice
    const added = fake.createEvent(ALICE, { subject: 'After expiry' });
    await eventually(
      async () => ((await liveIds()).includes(added.id) ? true : undefined),
      'the resync',
      wait(30_000),
    );
    await settle();
    expect(fake.delta.counts.expired).toBeGreaterThan(0);
    expect(fake.delta.counts.initial).toBeGreaterThan(initialBefore);
    expect(await liveIds()).toEqual(await sourceIds());
    expect((await items()).find((i) => i.external_id === gone)?.deleted).toBe(true);
    const ids = (await items()).map((i) => i.external_id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('refuses a forged clientState with 401 and stores nothing', async () => {
    await settle();
    const sub = (await subscription())!;
    const [{ n: before }] = await db.query('SELECT count(*)::int AS n FROM webhook_deliveries');
    const runsBefore = (await runs()).length;
    const forged = JSON.stringify({
      value: [
        { subscriptionId: sub.external_id, clientState: 'not-the-secret', changeType: 'updated' },
      ],
    });
    expect((await webhook(forged)).status).toBe(401);
    const [{ n: after }] = await db.query('SELECT count(*)::int AS n FROM webhook_deliveries');
    expect(after).toBe(before);
    expect((await runs()).length).toBe(runsBefore);
  });

  it('renews the subscription (PATCH) once its expiry is within the margin', async () => {
    await settle();
    const sub = (await subscription())!;
    const graphSub = fake.subscriptions.all.get(sub.external_id)!;
    const renewalsBefore = graphSub.renewals;
    const subscriptions = t.app.get(SubscriptionsService);
    const clock = vi.spyOn(t.app.get(CLOCK), 'now');
    try {
      // 11 hours before the expiry: inside the 12-hour margin.
      clock.mockReturnValue(new Date(sub.expires_at.getTime() - 11 * 3600_000));
      expect(await subscriptions.queueDueRenewals()).toBeGreaterThanOrEqual(1);
      await eventually(
        () => (graphSub.renewals > renewalsBefore ? true : undefined),
        'a PATCH at Graph',
        wait(),
      );
    } finally {
      clock.mockRestore();
    }
    const renewed = await eventually(
      async () => {
        const row = await subscription();
        return row && row.expires_at.getTime() > sub.expires_at.getTime() ? row : undefined;
      },
      'the later expiry stored',
      wait(),
    );
    expect(renewed.external_id).toBe(sub.external_id);
    expect(renewed.expires_at.getTime()).toBe(graphSub.expirationDateTime);
  });

  it('a `missed` lifecycle notification runs a sync', async () => {
    await settle();
    const sub = (await subscription())!;
    const runsBefore = (await runs()).length;
    // Changed without a notification: only the sync that `missed` asks for brings it.
    const event = fake.mailbox(ALICE).create({ subject: 'Missed while away' });
    expect(fake.sendLifecycle(sub.external_id, 'missed')).toBe(true);
    await eventually(
      async () => ((await liveIds()).includes(event.id) ? true : undefined),
      'the missed event',
      wait(),
    );
    expect((await runs()).slice(runsBefore).map((r) => r.trigger)).toContain('webhook');
  });

  it('reauthorizationRequired renews the subscription at once', async () => {
    await settle();
    const sub = (await subscription())!;
    const graphSub = fake.subscriptions.all.get(sub.external_id)!;
    const before = graphSub.renewals + graphSub.reauthorizations;
    expect(fake.sendLifecycle(sub.external_id, 'reauthorizationRequired')).toBe(true);
    await eventually(
      () => (graphSub.renewals + graphSub.reauthorizations > before ? true : undefined),
      'a renewal or reauthorization at Graph',
      wait(),
    );
  });

  it('subscriptionRemoved creates a new subscription and resyncs', async () => {
    await settle();
    const sub = (await subscription())!;
    const event = fake.mailbox(ALICE).create({ subject: 'While removed' });
    expect(fake.sendLifecycle(sub.external_id, 'subscriptionRemoved')).toBe(true);
    const replaced = await eventually(
      async () => {
        const row = await subscription();
        return row && row.external_id !== sub.external_id ? row : undefined;
      },
      'a new subscription',
      wait(),
    );
    expect(fake.subscriptions.active(fake.mailbox(ALICE)).map((s) => s.id)).toEqual([
      replaced.external_id,
    ]);
    await eventually(
      async () => ((await liveIds()).includes(event.id) ? true : undefined),
      'the resync',
      wait(),
    );
  });

  it('refreshes an expired access token once and stores the rotated refresh token', async () => {
    await settle();
    const refreshes = () =>
      (fake.oauth.stats() as { tokenRequests: Record<string, number> }).tokenRequests
        .refresh_token ?? 0;
    const refreshesBefore = refreshes();
    fake.oauth.tokens.expireAccessTokens(ALICE);
    const before = await expireStoredAccessToken(t, connectionId);
    const res = await fetch(`${t.baseUrl}/v1/connections/${connectionId}/sync`, {
      method: 'POST',
      headers: auth,
      body: '{"mode":"incremental"}',
    });
    expect(res.status).toBe(202);
    await settle();
    expect(refreshes() - refreshesBefore).toBe(1);
    const after = await t.credentials(connectionId);
    expect(after.refreshToken).toBeTruthy();
    expect(after.refreshToken).not.toBe(before.refreshToken);
    // The old one was replaced at the fake: only the stored new one still works.
    expect(fake.oauth.introspect(before.refreshToken!).active).toBe(false);
    expect(fake.oauth.introspect(after.refreshToken!).active).toBe(true);
    expect((await runs()).at(-1)).toMatchObject({ status: 'succeeded' });
  });

  it('disconnects: the subscription is deleted at Graph and the tokens are erased', async () => {
    await settle();
    const res = await fetch(`${t.baseUrl}/v1/connections/${connectionId}`, {
      method: 'DELETE',
      headers: auth,
    });
    expect(res.status).toBe(200);
    expect(fake.subscriptions.active(fake.mailbox(ALICE))).toEqual([]);
    const connection = await t.app.get(ConnectionStore).get(connectionId);
    expect(connection.status).toBe('disconnected');
  });
});

describe('Outlook Calendar without INTEGRATION_PLUGINS', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Its credentials are set: without the plugin nobody reads them.
    t = await startTestApp({
      env: {
        OUTLOOK_CALENDAR_CLIENT_ID: SANDBOX_OUTLOOK_CLIENT.clientId,
        OUTLOOK_CALENDAR_CLIENT_SECRET: SANDBOX_OUTLOOK_CLIENT.clientSecret,
      },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is an unknown provider: authorize answers 404', async () => {
    const res = await fetch(`${t.baseUrl}/v1/connections/outlook-calendar/authorize`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ userId: USER, returnTo: `${RETURN_ORIGIN}/connected` }),
    });
    expect(res.status).toBe(404);
  });
});
