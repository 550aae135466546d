import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleCalendarFake } from './google-calendar.fake.js';
import { api, connect, listAll, tokenRequest } from './google-calendar.test-kit.js';

let fake: GoogleCalendarFake;
let token: string;
const ALICE = 'alice@example.com';
const LOAD = 'load@group.calendar.google.com';

beforeAll(async () => {
  fake = new GoogleCalendarFake();
  await fake.start();
  token = (await connect(fake, ALICE)).access_token;
});
afterAll(() => fake.stop());

describe('large calendars (benchmarks P1/P4)', () => {
  it('serves 100,000 generated events in pages of 2,500, then 10 changes incrementally', async () => {
    const seeded = performance.now();
    fake.seedLarge(ALICE, LOAD, 100_000);
    const seedMs = performance.now() - seeded;
    const started = performance.now();
    const full = await listAll(fake, token, LOAD, { maxResults: '2500' });
    const fullMs = performance.now() - started;
    const serverMs = fake.server.log.recent(40).reduce((sum, r) => sum + r.ms, 0);
    expect(full.pages).toHaveLength(40);
    expect(full.pages.every((p) => p.items.length === 2500)).toBe(true);
    expect(new Set(full.items.map((e) => e.id)).size).toBe(100_000);
    expect(full.nextSyncToken).toEqual(expect.any(String));
    const sample = full.items[12_345];
    expect(sample).toMatchObject({
      kind: 'calendar#event',
      status: 'confirmed',
      start: { timeZone: 'UTC' },
    });
    expect(full.items[9].start).toHaveProperty('date'); // every tenth is all-day
    // Pages are written by a fast serializer; events.get builds objects: both must agree.
    for (const i of [0, 9, 12_345, 99_999]) {
      const got = await api(fake, token, `/calendars/${LOAD}/events/${full.items[i].id}`);
      expect(await got.json()).toEqual(full.items[i]);
    }

    for (let i = 0; i < 10; i++) {
      const id = full.items[i * 9_999].id;
      if (i < 9) fake.updateEvent(ALICE, LOAD, id, { summary: `Changed ${i}` });
      else fake.cancelEvent(ALICE, LOAD, id);
    }
    const incStarted = performance.now();
    const delta = await listAll(fake, token, LOAD, {
      maxResults: '2500',
      syncToken: full.nextSyncToken!,
    });
    const incMs = performance.now() - incStarted;
    expect(delta.items).toHaveLength(10);
    expect(delta.items.filter((e) => e.status === 'cancelled')).toHaveLength(1);
    const again = await listAll(fake, token, LOAD, { maxResults: '2500' });
    expect(again.items).toHaveLength(99_999);
    expect(again.items[9_999].summary).toBe('Changed 1');
    console.info(
      `[sandbox] seedLarge 100k: ${seedMs.toFixed(1)} ms; full sync 40 pages: ${fullMs.toFixed(0)} ms (server ${serverMs.toFixed(0)} ms); incremental (10 changes): ${incMs.toFixed(1)} ms`,
    );
  });

  it('serves repeated listings from the page cache when enabled, and never serves stale pages', async () => {
    const cached = new GoogleCalendarFake({ pageCacheBytes: 64 * 1024 * 1024 });
    await cached.start();
    try {
      const t = (await connect(cached, ALICE)).access_token;
      cached.seedLarge(ALICE, LOAD, 10_000);
      const first = await listAll(cached, t, LOAD, { maxResults: '2500' });
      const second = await listAll(cached, t, LOAD, { maxResults: '2500' });
      expect(second.items).toEqual(first.items);
      expect(cached.pageCache.stats()).toMatchObject({ hits: 4, misses: 4 });
      cached.updateEvent(ALICE, LOAD, first.items[0].id, { summary: 'Fresh' });
      const third = await listAll(cached, t, LOAD, { maxResults: '2500' });
      expect(third.items[0].summary).toBe('Fresh');
    } finally {
      await cached.stop();
    }
  });

  it('makes earlier sync tokens of a reseeded calendar stale (410)', async () => {
    fake.seedLarge(ALICE, 'primary', 10);
    const { nextSyncToken } = await listAll(fake, token, 'primary');
    fake.seedLarge(ALICE, 'primary', 20);
    const res = await api(
      fake,
      token,
      `/calendars/primary/events?syncToken=${encodeURIComponent(nextSyncToken!)}`,
    );
    expect(res.status).toBe(410);
  });
});

describe('faults and rate limits', () => {
  it('answers the next N calls with 403 / 429 rateLimitExceeded, then recovers', async () => {
    fake.rateLimitNext(2, 403);
    fake.rateLimitNext(1, 429);
    const statuses: number[] = [];
    const bodies: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await api(fake, token, '/users/me/calendarList');
      statuses.push(res.status);
      bodies.push(await res.json());
    }
    expect(statuses).toEqual([403, 403, 429, 200]);
    expect(bodies[0]).toEqual({
      error: {
        errors: [
          { domain: 'usageLimits', reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded' },
        ],
        code: 403,
        message: 'Rate Limit Exceeded',
      },
    });
    expect(bodies[2]).toMatchObject({
      error: { code: 429, errors: [{ reason: 'rateLimitExceeded' }] },
    });
  });

  it('injects arbitrary faults by path, including connection resets, without touching admin', async () => {
    fake.failNext({ status: 500, path: '/token', body: { error: 'internal_failure' } });
    fake.failNext({ status: 0, path: /\/events$/ });
    const token500 = await tokenRequest(fake, { grant_type: 'refresh_token', refresh_token: 'x' });
    expect(token500.status).toBe(500);
    await expect(api(fake, token, '/calendars/primary/events')).rejects.toThrow();
    expect((await api(fake, token, '/calendars/primary/events')).status).toBe(200);
    expect(fake.server.faults.stats()).toMatchObject({ pending: 0 });
  });

  it('drives everything over the admin HTTP API too', async () => {
    const admin = (method: string, path: string, body?: unknown) =>
      fetch(`${fake.url}/__admin${path}`, {
        method,
        body: body ? JSON.stringify(body) : undefined,
        headers: { 'content-type': 'application/json' },
      });
    const { nextSyncToken } = await listAll(fake, token, 'primary');
    const created = await admin('POST', `/accounts/${ALICE}/calendars/primary/events`, {
      summary: 'From admin',
      start: { date: '2026-05-01' },
      end: { date: '2026-05-02' },
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect(
      (await admin('DELETE', `/accounts/${ALICE}/calendars/primary/events/${id}`)).status,
    ).toBe(200);
    const delta = await listAll(fake, token, 'primary', { syncToken: nextSyncToken! });
    expect(delta.items).toEqual([
      { kind: 'calendar#event', etag: expect.any(String), id, status: 'cancelled' },
    ]);
    expect((await admin('POST', '/rate-limit', { count: 1, status: 429 })).status).toBe(201);
    expect((await api(fake, token, '/users/me/calendarList')).status).toBe(429);
    expect(
      (await admin('POST', '/faults', { status: 503, path: '/calendar/v3/users' })).status,
    ).toBe(201);
    expect((await api(fake, token, '/users/me/calendarList')).status).toBe(503);
    expect(
      (await admin('PATCH', `/accounts/${ALICE}/calendars/primary/events/nope`, {})).status,
    ).toBe(404);
    const state = (await (await admin('GET', '/state')).json()) as {
      accounts: Array<{ email: string }>;
      stats: Record<string, any>;
    };
    expect(state.accounts.map((a) => a.email)).toEqual([ALICE, 'bob@example.com']);
    // The faulted /token call never reached the OAuth server.
    expect(state.stats.oauth.tokenRequests).toEqual({ authorization_code: 1 });
    expect(
      state.stats.requests.byRoute['GET /calendar/v3/calendars/:calendarId/events'],
    ).toBeGreaterThan(40);
    expect(state.stats.requests.byRoute.FAULT).toBe(7);
  });
});
