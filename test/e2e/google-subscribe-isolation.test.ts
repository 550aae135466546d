import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { GoogleCalendarFake } from '../../sandbox/google-calendar/google-calendar.fake.js';
import { TEAM_CALENDAR_ID } from '../../sandbox/google-calendar/seed.js';
import { GoogleCalendarProvider } from '../../src/providers/google-calendar/google-calendar.provider.js';
import { SubscriptionsService } from '../../src/webhooks/subscriptions.service.js';
import { CLOCK } from '../../src/webhooks/webhooks.constants.js';
import {
  debugState,
  driveConnect,
  followConsentRedirect,
  syncIdle,
  type ContractContext,
  eventually,
} from '@pdeck/integration-sdk/testing';
import { TcpForwarder } from '../support/tcp-forwarder.js';
import { freePort, startTestApp, type TestApp } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { flushPrefix } from '../support/test-services.js';
import { googleFakeEnv } from '../support/google-fake-env.js';

const ALICE = 'alice@example.com';
const RETURN_ORIGIN = 'http://127.0.0.1:5999';
const MINUTE = 60_000;
/** Both app instances are one deployment: the same database and the same keys. */
const ENCRYPTION_KEYS = `k1:${randomBytes(32).toString('base64')}`;
/** events.watch of Alice's primary calendar and of the public holidays calendar. */
const PRIMARY_WATCH = /^\/calendar\/v3\/calendars\/alice%40example\.com\/events\/watch$/;
const HOLIDAY_WATCH = /^\/calendar\/v3\/calendars\/[^/]*holiday[^/]*\/events\/watch$/;

interface AttemptRow {
  resource_id: string;
  status: string;
  failures: number;
  last_error: string | null;
  next_attempt_at: Date | null;
}

/**
 * Subscribing a Google connection's calendars one by one: a calendar that fails is recorded with
 * its reason and retried with a growing backoff, while the others are watched; a calendar Google
 * cannot push for is left to scheduled syncs; replacements register the current PUBLIC_URL.
 */
describe('Google Calendar push subscriptions, calendar by calendar', () => {
  let fake: GoogleCalendarFake;
  let database: TestDatabase;
  let t: TestApp;
  let ctx: ContractContext;
  let forwarder: TcpForwarder | undefined;
  const prefixes: string[] = [];
  const userId = 'pdeck-google-isolation';
  const debug = async () => ({
    ...(await debugState(ctx)),
    attempts: await attempts(),
    subscriptions: await subscribed(),
  });

  function startApp(port: number): Promise<TestApp> {
    return startTestApp({
      port,
      database,
      integrations: [GoogleCalendarProvider],
      env: {
        ...googleFakeEnv(fake),
        RETURN_TO_ORIGINS: RETURN_ORIGIN,
        ENCRYPTION_KEYS,
      },
    });
  }

  const attempts = (): Promise<AttemptRow[]> =>
    ctx.db.query(
      `SELECT resource_id, status, failures, last_error, next_attempt_at
         FROM webhook_subscribe_attempts WHERE connection_id = $1 ORDER BY resource_id`,
      [ctx.connectionId],
    );
  const subscribed = async (): Promise<{ resource_id: string; callback_url: string }[]> =>
    ctx.db.query(
      `SELECT resource_id, callback_url FROM webhook_subscriptions
        WHERE connection_id = $1 ORDER BY resource_id`,
      [ctx.connectionId],
    );
  const watchCalls = (path: RegExp): number =>
    fake.server.log.recent(5_000).filter((e) => e.method === 'POST' && path.test(e.path)).length;

  beforeAll(async () => {
    fake = new GoogleCalendarFake();
    await fake.start();
    database = await createTestDatabase(inject('databaseUrl'));
    t = await startApp(await freePort());
    prefixes.push(t.config.redisKeyPrefix);
    // Alice's primary calendar cannot be watched for now (Google answers 500 every time); her
    // holidays calendar never can (Google's documented refusal for generated calendars).
    fake.server.addFault({ method: 'POST', path: PRIMARY_WATCH, status: 500, times: 1_000 });
    fake.server.addFault({
      method: 'POST',
      path: HOLIDAY_WATCH,
      status: 400,
      times: 1_000,
      body: {
        error: {
          code: 400,
          message: 'Push notifications are not supported by this resource.',
          errors: [
            {
              domain: 'calendar',
              reason: 'pushNotSupportedForRequestedResource',
              message: 'Push notifications are not supported by this resource.',
            },
          ],
        },
      },
    });
    const connectionId = await driveConnect(t, {
      provider: 'google-calendar',
      userId,
      returnTo: `${RETURN_ORIGIN}/connected`,
      consent: (url) => {
        url.searchParams.set('auto', 'allow');
        url.searchParams.set('account', ALICE);
        return followConsentRedirect(url);
      },
    });
    ctx = { app: t, db: t.app.get(DataSource), userId, connectionId };
    await eventually(() => syncIdle(ctx), 'the initial full sync', { timeoutMs: 30_000, debug });
  });
  afterAll(async () => {
    await t?.close();
    await forwarder?.stop();
    await fake?.stop();
    for (const prefix of prefixes) await flushPrefix(t.config.redisUrl, prefix);
    await database?.drop();
  });

  it('watches the calendars that can be watched although another one fails', async () => {
    const settled = await eventually(
      async () => {
        const rows = await attempts();
        return rows.length === 2 && rows.every((r) => r.status !== 'pending') ? rows : undefined;
      },
      'every calendar tried once',
      { timeoutMs: 15_000, debug },
    );
    expect((await subscribed()).map((s) => s.resource_id)).toEqual([TEAM_CALENDAR_ID]);
    const [holidays, primary] = [
      settled.find((r) => r.resource_id.includes('holiday'))!,
      settled.find((r) => r.resource_id === ALICE)!,
    ];
    expect(primary).toMatchObject({ status: 'failed', failures: 1 });
    expect(primary.last_error).toMatch(/^TEMPORARY: /);
    expect(primary.next_attempt_at).toBeInstanceOf(Date);
    expect(holidays).toMatchObject({ status: 'unsupported', next_attempt_at: null });
    // Google holds exactly one channel for us: the Team calendar's.
    const channels = fake.channels.active();
    expect(channels.map((c) => c.calendarId)).toEqual([TEAM_CALENDAR_ID]);
    expect(watchCalls(PRIMARY_WATCH)).toBe(1);
    expect(watchCalls(HOLIDAY_WATCH)).toBe(1);
  });

  it('retries the failing calendar after a backoff that doubles, and never the unsupported one', async () => {
    const subscriptions = t.app.get(SubscriptionsService);
    const [primary] = (await attempts()).filter((r) => r.resource_id === ALICE);
    const firstRetry = primary.next_attempt_at!.getTime();
    const clock = vi.spyOn(t.app.get(CLOCK), 'now');
    const failuresOfPrimary = async () =>
      (await attempts()).find((r) => r.resource_id === ALICE)?.failures;
    try {
      // Every renewal round (10 minutes) until the first retry is due: nothing is queued.
      clock.mockReturnValue(new Date(firstRetry - 1));
      expect(await subscriptions.queueDueRenewals()).toBe(0);
      clock.mockReturnValue(new Date(firstRetry));
      expect(await subscriptions.queueDueRenewals()).toBe(1);
      await eventually(
        async () => ((await failuresOfPrimary()) === 2 ? true : undefined),
        'the second failure',
        { timeoutMs: 15_000, debug },
      );
      const [second] = (await attempts()).filter((r) => r.resource_id === ALICE);
      // 20 minutes after the retry that failed (the clock the service saw).
      expect(second.next_attempt_at!.getTime()).toBe(firstRetry + 20 * MINUTE);
      clock.mockReturnValue(new Date(firstRetry + 20 * MINUTE - 1));
      expect(await subscriptions.queueDueRenewals()).toBe(0);
      clock.mockReturnValue(new Date(firstRetry + 20 * MINUTE));
      expect(await subscriptions.queueDueRenewals()).toBe(1);
      await eventually(
        async () => ((await failuresOfPrimary()) === 3 ? true : undefined),
        'the third failure',
        { timeoutMs: 15_000, debug },
      );
      const [third] = (await attempts()).filter((r) => r.resource_id === ALICE);
      expect(third.next_attempt_at!.getTime()).toBe(firstRetry + 60 * MINUTE);
      expect(watchCalls(PRIMARY_WATCH)).toBe(3);
      expect(watchCalls(HOLIDAY_WATCH)).toBe(1);
      expect((await subscribed()).map((s) => s.resource_id)).toEqual([TEAM_CALENDAR_ID]);

      // Google recovers: the next due round subscribes the calendar and forgets the failures.
      fake.server.faults.clear();
      clock.mockReturnValue(new Date(firstRetry + 60 * MINUTE));
      expect(await subscriptions.queueDueRenewals()).toBe(1);
      await eventually(
        async () => ((await subscribed()).length === 2 ? true : undefined),
        'the primary calendar watched',
        { timeoutMs: 15_000, debug },
      );
      expect((await attempts()).map((r) => [r.resource_id, r.status])).toEqual([
        [expect.stringContaining('holiday'), 'unsupported'],
      ]);
      expect(watchCalls(HOLIDAY_WATCH)).toBe(1);
      // Nothing is due any more: the next rounds queue nothing.
      expect(await subscriptions.queueDueRenewals()).toBe(0);
    } finally {
      clock.mockRestore();
    }
  });

  it('replaces channels at the current PUBLIC_URL when it changed since they were created', async () => {
    await eventually(() => syncIdle(ctx), 'quiet before the move', { timeoutMs: 15_000, debug });
    const before = await subscribed();
    const oldUrl = before[0].callback_url;
    expect(before.every((s) => s.callback_url === oldUrl)).toBe(true);
    // The service moves to a new public URL; the old one still reaches it (a forwarded port).
    const oldPort = Number(new URL(oldUrl).port);
    await t.close();
    const newPort = await freePort();
    t = await startApp(newPort);
    prefixes.push(t.config.redisKeyPrefix);
    ctx = { ...ctx, app: t, db: t.app.get(DataSource) };
    forwarder = await new TcpForwarder(newPort).start(oldPort);
    const newUrl = `http://127.0.0.1:${newPort}/v1/webhooks/google-calendar`;

    const clock = vi.spyOn(t.app.get(CLOCK), 'now');
    try {
      // Inside the renewal margin of the 7-day channels.
      clock.mockReturnValue(new Date(Date.now() + 6.5 * 24 * 60 * MINUTE));
      expect(await t.app.get(SubscriptionsService).queueDueRenewals()).toBe(2);
      await eventually(
        async () => {
          const rows = await subscribed();
          return rows.length === 2 && rows.every((r) => r.callback_url === newUrl)
            ? true
            : undefined;
        },
        'both channels replaced at the new URL',
        { timeoutMs: 15_000, debug },
      );
    } finally {
      clock.mockRestore();
    }
    const channels = fake.channels.active();
    expect(channels).toHaveLength(2);
    expect(channels.every((c) => c.address === newUrl)).toBe(true);
    // A change reaches the service at the new URL and is accepted.
    const team = channels.find((c) => c.calendarId === TEAM_CALENDAR_ID)!;
    fake.pushTo(team.id);
    await fake.whenIdle();
    const push = fake.pushes
      .log(5_000)
      .filter((p) => p.headers['X-Goog-Channel-ID'] === team.id)
      .at(-1);
    expect(push?.headers['X-Goog-Resource-State']).toBe('exists');
    expect(push).toMatchObject({ url: newUrl, status: 200 });
  });
});
