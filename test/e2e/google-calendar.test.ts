import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleCalendarFake } from '../../sandbox/google-calendar/google-calendar.fake.js';
import {
  CALENDAR_READONLY,
  listAll,
} from '../../sandbox/google-calendar/google-calendar.test-kit.js';
import { ConnectionStore } from '../../src/auth/connection-store.service.js';
import { GoogleCalendarProvider } from '../../src/providers/google-calendar/google-calendar.provider.js';
import { eventually } from '@pdeck/integration-sdk/testing';
import { freePort, startTestApp, TEST_API_TOKEN, type TestApp } from '../support/test-app.js';
import { googleFakeEnv } from '../support/google-fake-env.js';
import { expireStoredAccessToken } from '../support/active-connection.js';

const ALICE = 'alice@example.com';
const RETURN_TO = 'http://127.0.0.1:5999/connected';
let debugState: (() => Promise<unknown>) | undefined;
const auth = { authorization: `Bearer ${TEST_API_TOKEN}`, 'content-type': 'application/json' };

/** What a timed-out wait reports: runs and sync jobs. */
const waitOptions = (timeoutMs = 15_000) => ({ timeoutMs, debug: () => debugState?.() });

describe('Google Calendar end to end, against the sandbox over HTTP', () => {
  let fake: GoogleCalendarFake;
  let t: TestApp;
  let db: DataSource;
  let connectionId: string;

  beforeAll(async () => {
    fake = new GoogleCalendarFake();
    await fake.start();
    const port = await freePort();
    t = await startTestApp({
      port,
      integrations: [GoogleCalendarProvider],
      env: {
        ...googleFakeEnv(fake),
        RETURN_TO_ORIGINS: 'http://127.0.0.1:5999',
      },
    });
    db = t.app.get(DataSource);
    debugState = async () => {
      const { getQueueToken } = await import('@nestjs/bullmq');
      const q = t.app.get(getQueueToken('sync'));
      const jobs = await q.getJobs([
        'waiting',
        'active',
        'delayed',
        'completed',
        'failed',
        'prioritized',
      ]);
      return {
        runs: await db.query('SELECT id, status, trigger, mode FROM sync_runs ORDER BY created_at'),
        jobs: await Promise.all(
          jobs.map(async (j: any) => [
            j.id,
            j.name,
            j.data.syncRunId,
            await j.getState(),
            j.failedReason,
          ]),
        ),
      };
    };
  });
  afterAll(async () => {
    await t?.close();
    await fake?.stop();
  });

  const runs = (): Promise<{ status: string; trigger: string; mode: string }[]> =>
    db.query(
      'SELECT status, trigger, mode FROM sync_runs WHERE connection_id = $1 ORDER BY created_at',
      [connectionId],
    );
  const liveItems = (): Promise<{ external_id: string; title: string; version: string }[]> =>
    db.query(
      `SELECT external_id, title, external_version AS version FROM items
       WHERE connection_id = $1 AND deleted_at IS NULL ORDER BY external_id`,
      [connectionId],
    );
  const idle = async (): Promise<true | undefined> => {
    const all = await runs();
    return all.length > 0 && all.every((r) => ['succeeded', 'partial', 'failed'].includes(r.status))
      ? true
      : undefined;
  };

  /** What Google has for the calendars the connection syncs, as `<calendarId>:<eventId>`. */
  async function sourceIds(): Promise<string[]> {
    const token = fake.oauth.issueTokens(ALICE, [CALENDAR_READONLY]).access_token;
    const calendars = (await db.query(
      'SELECT resource_id FROM sync_states WHERE connection_id = $1',
      [connectionId],
    )) as {
      resource_id: string;
    }[];
    const ids: string[] = [];
    for (const { resource_id } of calendars) {
      const { items } = await listAll(fake, token, resource_id);
      ids.push(
        ...items.filter((e) => e.status !== 'cancelled').map((e) => `${resource_id}:${e.id}`),
      );
    }
    return ids.sort();
  }

  it('connects through the sandbox consent and imports every event of the shown calendars', async () => {
    const start = await fetch(`${t.baseUrl}/v1/connections/google-calendar/authorize`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ userId: 'pdeck-user-1', returnTo: RETURN_TO }),
    });
    expect(start.status).toBe(201);
    const { authorizeUrl } = (await start.json()) as { authorizeUrl: string };
    const url = new URL(authorizeUrl);
    expect(url.origin).toBe(new URL(fake.url).origin);
    expect(url.searchParams.get('access_type')).toBe('offline');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    url.searchParams.set('auto', 'allow');
    url.searchParams.set('account', ALICE);
    const consent = await fetch(url, { redirect: 'manual' });
    const callback = new URL(consent.headers.get('location')!);
    expect(callback.pathname).toBe('/v1/oauth/google-calendar/callback');
    const done = await fetch(callback, { redirect: 'manual' });
    expect(done.status).toBe(302);
    const landed = new URL(done.headers.get('location')!);
    connectionId = landed.searchParams.get('connectionId')!;
    expect(connectionId).toMatch(/^[0-9a-f-]{36}$/);
    // Pending until PDeck's backend confirms it for the user who started the flow.
    expect(await t.app.get(ConnectionStore).get(connectionId)).toMatchObject({ status: 'pending' });
    const confirmed = await fetch(`${t.baseUrl}/v1/connections/${connectionId}/confirm`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ userId: 'pdeck-user-1', token: landed.searchParams.get('confirm') }),
    });
    expect(confirmed.status).toBe(200);

    const connection = await t.app.get(ConnectionStore).get(connectionId);
    expect(connection).toMatchObject({ accountId: ALICE, status: 'active' });
    await eventually(idle, 'the initial full sync', waitOptions());
    expect((await runs())[0]).toMatchObject({
      status: 'succeeded',
      mode: 'full',
      trigger: 'connect',
    });
    const items = await liveItems();
    expect(items.length).toBeGreaterThan(5);
    expect(items.map((i) => i.external_id)).toEqual(await sourceIds());
    // The hidden, unselected archive calendar is not synced.
    expect(items.some((i) => i.external_id.includes('archive'))).toBe(false);
  });

  it('subscribes a push channel per synced calendar, and a change arrives through push', async () => {
    const calendars = (
      await db.query('SELECT count(*)::int AS n FROM sync_states WHERE connection_id = $1', [
        connectionId,
      ])
    )[0].n;
    await eventually(
      async () => {
        const [{ n }] = await db.query(
          "SELECT count(*)::int AS n FROM webhook_subscriptions WHERE connection_id = $1 AND status = 'active'",
          [connectionId],
        );
        return n === calendars ? true : undefined;
      },
      'one channel per calendar',
      waitOptions(),
    );
    const [row] = await db.query(
      'SELECT secret FROM webhook_subscriptions WHERE connection_id = $1 LIMIT 1',
      [connectionId],
    );
    expect(row.secret).toMatch(/^v1\./); // channel tokens are encrypted at rest

    // Only a push can bring it this soon: the schedule is 30 minutes apart, and the wait gives
    // up after 15 s.
    const event = fake.createEvent(ALICE, ALICE, { summary: 'Pushed planning' });
    const found = await eventually(
      async () => {
        const res = await fetch(
          `${t.baseUrl}/v1/items?userId=pdeck-user-1&provider=google-calendar&limit=1000`,
          { headers: auth },
        );
        const body = (await res.json()) as { items: { externalId: string; title: string }[] };
        return body.items.find((i) => i.externalId === `${ALICE}:${event.id}`);
      },
      'the pushed event in the changes feed',
      waitOptions(),
    );
    expect(found.title).toBe('Pushed planning');
    expect((await runs()).some((r) => r.trigger === 'webhook')).toBe(true);
  });

  it('turns a cancellation into a tombstone', async () => {
    const event = fake.createEvent(ALICE, ALICE, { summary: 'Soon cancelled' });
    await eventually(
      async () =>
        (await liveItems()).some((i) => i.external_id === `${ALICE}:${event.id}`)
          ? true
          : undefined,
      'created',
      waitOptions(),
    );
    fake.cancelEvent(ALICE, ALICE, event.id);
    const [row] = await eventually(
      async () => {
        const rows = await db.query(
          'SELECT deleted_at FROM items WHERE connection_id = $1 AND external_id = $2 AND deleted_at IS NOT NULL',
          [connectionId, `${ALICE}:${event.id}`],
        );
        return rows.length ? rows : undefined;
      },
      'tombstone',
      waitOptions(),
    );
    expect(row.deleted_at).toBeInstanceOf(Date);
  });

  it('resyncs a calendar fully when its sync token is gone (410), ending consistent', async () => {
    fake.invalidateSyncTokens(ALICE);
    fake.createEvent(ALICE, ALICE, { summary: 'After invalidation' });
    await eventually(
      async () =>
        (await liveItems()).some((i) => i.title === 'After invalidation') ? true : undefined,
      'resync',
      waitOptions(),
    );
    await eventually(idle, 'runs to settle', waitOptions());
    expect((await liveItems()).map((i) => i.external_id)).toEqual(await sourceIds());
  });

  it('rejects forged pushes: wrong token 401, unknown channel 404, and syncs nothing', async () => {
    await fake.whenIdle();
    await eventually(idle, 'quiet before the forgeries', waitOptions());
    const [sub] = await db.query(
      'SELECT external_id, external_resource_id FROM webhook_subscriptions WHERE connection_id = $1 LIMIT 1',
      [connectionId],
    );
    const runsBefore = (await runs()).length;
    const push = (headers: Record<string, string>) =>
      fetch(`${t.baseUrl}/v1/webhooks/google-calendar`, { method: 'POST', headers });
    const deliveries = (messageNumber: string): Promise<{ status: string }[]> =>
      db.query('SELECT status FROM webhook_deliveries WHERE delivery_id = $1', [
        `${sub.external_id}:${messageNumber}`,
      ]);
    const base = {
      'x-goog-channel-id': sub.external_id,
      'x-goog-resource-id': sub.external_resource_id,
      'x-goog-resource-state': 'exists',
      'x-goog-message-number': '999',
    };
    expect((await push({ ...base, 'x-goog-channel-token': 'forged' })).status).toBe(401);
    expect(
      (await push({ ...base, 'x-goog-channel-id': 'unknown-channel', 'x-goog-channel-token': 'x' }))
        .status,
    ).toBe(404);

    // Then a genuine push on the same channel. Once it has been processed and the sync it asked
    // for has ended, a forged push that had been taken would have been handled too.
    const token = fake.channels.get(sub.external_id)!.token!;
    const genuine = { ...base, 'x-goog-message-number': '1000', 'x-goog-channel-token': token };
    expect((await push(genuine)).status).toBe(200);
    await eventually(
      async () => ((await deliveries('1000'))[0]?.status === 'processed' ? true : undefined),
      'the genuine push to be processed',
      waitOptions(),
    );
    await eventually(idle, 'the sync of the genuine push', waitOptions());
    expect(await deliveries('999')).toEqual([]);
    // One run: the genuine push's.
    expect((await runs()).slice(runsBefore)).toMatchObject([
      { trigger: 'webhook', status: 'succeeded' },
    ]);
  });

  it('refreshes an expired access token exactly once, then keeps syncing', async () => {
    await eventually(idle, 'quiet before expiry', waitOptions());
    const refreshesBefore = refreshCount();
    fake.oauth.tokens.expireAccessTokens(ALICE);
    await db.query(
      "UPDATE connections SET token_expires_at = now() - interval '1 minute' WHERE id = $1",
      [connectionId],
    );
    await expireStoredAccessToken(t, connectionId);
    const store = t.app.get(ConnectionStore);
    const res = await fetch(`${t.baseUrl}/v1/connections/${connectionId}/sync`, {
      method: 'POST',
      headers: auth,
      body: '{"mode":"incremental"}',
    });
    expect(res.status).toBe(202);
    await eventually(idle, 'sync after expiry', waitOptions());
    expect(refreshCount() - refreshesBefore).toBe(1);
    expect((await store.get(connectionId)).status).toBe('active');
  });

  it('refreshes an access token Google rejects before its stored expiry (401), then syncs', async () => {
    await eventually(idle, 'quiet before the rejection', waitOptions());
    const refreshesBefore = refreshCount();
    // Google drops the token; our stored expiry still says it is good for most of an hour.
    fake.oauth.tokens.expireAccessTokens(ALICE);
    const res = await fetch(`${t.baseUrl}/v1/connections/${connectionId}/sync`, {
      method: 'POST',
      headers: auth,
      body: '{"mode":"incremental"}',
    });
    const { syncRunId } = (await res.json()) as { syncRunId: string };
    // First attempt: 401 -> token marked expired; the retry (5-10 s backoff) refreshes it once.
    const [run] = await eventually(
      async () => {
        const rows = await db.query('SELECT status FROM sync_runs WHERE id = $1', [syncRunId]);
        return rows[0]?.status === 'succeeded' ? rows : undefined;
      },
      'the retried run',
      waitOptions(30_000),
    );
    expect(run.status).toBe('succeeded');
    expect(refreshCount() - refreshesBefore).toBe(1);
    expect((await t.app.get(ConnectionStore).get(connectionId)).status).toBe('active');
  });

  it('disconnects: channels stopped at Google, token revoked, secrets wiped', async () => {
    const activeBefore = fake.channels.active().length;
    expect(activeBefore).toBeGreaterThan(0);
    const store = t.app.get(ConnectionStore);
    const { accessToken } = store.credentialsOf(await store.get(connectionId));
    const res = await fetch(`${t.baseUrl}/v1/connections/${connectionId}`, {
      method: 'DELETE',
      headers: auth,
    });
    expect(res.status).toBe(200);
    expect(fake.channels.active().length).toBe(0);
    expect(fake.oauth.introspect(accessToken).active).toBe(false);
    const [row] = await db.query('SELECT status, credentials FROM connections WHERE id = $1', [
      connectionId,
    ]);
    expect(row).toEqual({ status: 'disconnected', credentials: null });
    const [{ n }] = await db.query(
      'SELECT count(*)::int AS n FROM webhook_subscriptions WHERE connection_id = $1',
      [connectionId],
    );
    expect(n).toBe(0);
  });

  function refreshCount(): number {
    const stats = fake.oauth.stats() as { tokenRequests: Record<string, number> };
    return stats.tokenRequests.refresh_token ?? 0;
  }
});
