import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleCalendarFake } from '../../sandbox/google-calendar/google-calendar.fake.js';
import { GoogleCalendarProvider } from '../../src/providers/google-calendar/google-calendar.provider.js';
import { connectSessionUrl, createConnectSession, UiBrowser } from '../support/connect-ui-kit.js';
import { eventually } from '@pdeck/integration-sdk/testing';
import { startTestApp, TEST_API_TOKEN, type TestApp } from '../support/test-app.js';
import { googleFakeEnv } from '../support/google-fake-env.js';

const ALICE = 'alice@example.com';
const PDECK = 'http://127.0.0.1:5999';
const RETURN_TO = `${PDECK}/settings/integrations`;
const USER_A = 'pdeck-user-a';
const USER_B = 'pdeck-user-b';
const auth = { authorization: `Bearer ${TEST_API_TOKEN}`, 'content-type': 'application/json' };

interface StateJson {
  integrations: { id: string; name: string }[];
  connections: {
    id: string;
    state: string;
    statusText: string;
    lastSyncedAt: string | null;
    nextSyncAt: string | null;
    counts: Record<string, number>;
    awaitingConfirmation: boolean;
  }[];
  changing: boolean;
}

/**
 * The Connect UI over HTTP against the Google Calendar sandbox: one-time links, the session
 * cookie, CSRF, user isolation, and a connect through the UI that PDeck confirms by API.
 */
describe('Connect UI', () => {
  let fake: GoogleCalendarFake;
  let t: TestApp;
  let db: DataSource;
  let redis: Redis;
  let connectionId: string;

  beforeAll(async () => {
    fake = new GoogleCalendarFake();
    await fake.start();
    t = await startTestApp({
      integrations: [GoogleCalendarProvider],
      env: {
        ...googleFakeEnv(fake),
        RETURN_TO_ORIGINS: PDECK,
      },
    });
    db = t.app.get(DataSource);
    redis = new Redis(t.config.redisUrl);
  });
  afterAll(async () => {
    redis?.disconnect();
    await t?.close();
    await fake?.stop();
  });

  const stateOf = async (browser: UiBrowser): Promise<StateJson> => {
    const res = await browser.get('/connect/state');
    expect(res.status).toBe(200);
    return (await res.json()) as StateJson;
  };

  describe('POST /v1/connect-sessions', () => {
    it('needs the internal token', async () => {
      const res = await createConnectSession(t.baseUrl, { userId: USER_A }, null);
      expect(res.status).toBe(401);
    });

    it('refuses providers that are not enabled integrations, and a foreign returnTo', async () => {
      const unknown = await createConnectSession(t.baseUrl, {
        userId: USER_A,
        providers: ['google-calendar', 'trello'],
      });
      expect(unknown.status).toBe(400);
      expect(await unknown.json()).toMatchObject({ error: 'invalid_providers' });
      const foreign = await createConnectSession(t.baseUrl, {
        userId: USER_A,
        returnTo: 'https://evil.example/steal',
      });
      expect(foreign.status).toBe(400);
      expect(await foreign.json()).toMatchObject({ error: 'invalid_return_to' });
      for (const body of [
        {},
        { userId: '' },
        { userId: USER_A, providers: 'jira' },
        { userId: USER_A, extra: 1 },
      ]) {
        expect((await createConnectSession(t.baseUrl, body)).status).toBe(400);
      }
    });

    it('is documented in the OpenAPI document, the pages are not', async () => {
      const doc = (await (await fetch(`${t.baseUrl}/docs/json`)).json()) as {
        paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      };
      expect(Object.keys(doc.paths['/v1/connect-sessions'].post.responses)).toEqual(
        expect.arrayContaining(['201', '400', '401']),
      );
      expect(Object.keys(doc.paths).filter((p) => p.startsWith('/connect'))).toEqual([]);
    });

    it('answers a one-time link valid for 30 minutes', async () => {
      const res = await createConnectSession(t.baseUrl, { userId: USER_A, returnTo: RETURN_TO });
      expect(res.status).toBe(201);
      const body = (await res.json()) as { url: string; expiresAt: string };
      expect(body.url).toMatch(
        new RegExp(`^${t.baseUrl}/connect/session\\?token=[A-Za-z0-9_-]{43}$`),
      );
      const ttl = new Date(body.expiresAt).getTime() - Date.now();
      expect(ttl).toBeGreaterThan(29 * 60_000);
      expect(ttl).toBeLessThanOrEqual(30 * 60_000);
      // Only a digest of the token is a key; the token itself is nowhere in Redis.
      const token = new URL(body.url).searchParams.get('token')!;
      const keys = await redis.keys(`${t.config.redisKeyPrefix}:connect-ui:*`);
      expect(keys.some((k) => k.includes(token))).toBe(false);
      expect(keys).toContain(`${t.config.redisKeyPrefix}:connect-ui:link:{${sha256(token)}}`);
    });
  });

  describe('the link and the session', () => {
    it('opens once: sets a HttpOnly, SameSite=Lax cookie on /connect and drops the token from the URL', async () => {
      const url = await connectSessionUrl(t.baseUrl, { userId: USER_A, returnTo: RETURN_TO });
      const browser = new UiBrowser(t.baseUrl);
      const opened = await browser.open(url);
      expect(opened.status).toBe(303);
      expect(opened.headers.get('location')).toBe('/connect');
      const cookie = browser.setCookie!;
      expect(cookie).toMatch(/^pdeck_connect=[A-Za-z0-9_-]{43};/);
      expect(cookie).toContain('Path=/connect');
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('SameSite=Lax');
      expect(cookie).toContain('Max-Age=7200');
      expect(cookie).not.toContain('Secure'); // PUBLIC_URL is http:// here
      const page = await browser.get('/connect');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');

      const again = await new UiBrowser(t.baseUrl).open(url);
      expect(again.status).toBe(410);
      expect(again.headers.get('content-type')).toContain('text/html');
      expect(again.headers.get('set-cookie')).toBeNull();
      expect(await again.text()).toContain('new link');
    });

    it('refuses an expired link (410) and an unknown one (404) with a page saying what to do', async () => {
      const url = await connectSessionUrl(t.baseUrl, { userId: USER_A, returnTo: RETURN_TO });
      const token = new URL(url).searchParams.get('token')!;
      // Expiry is Redis's TTL: the link's key is gone, its memory stays.
      await redis.del(`${t.config.redisKeyPrefix}:connect-ui:link:{${sha256(token)}}`);
      const expired = await new UiBrowser(t.baseUrl).open(url);
      expect(expired.status).toBe(410);
      expect(await expired.text()).toContain('used or has expired');
      const unknown = await new UiBrowser(t.baseUrl).open(
        `/connect/session?token=${'A'.repeat(43)}`,
      );
      expect(unknown.status).toBe(404);
      expect(await unknown.text()).toContain(
        'Ask PDeck'.replace('Ask PDeck', 'PDeck then makes a new link'),
      );
      expect((await new UiBrowser(t.baseUrl).open('/connect/session')).status).toBe(404);
    });

    it('without a session cookie every page is a 401 page, and the state route 401 JSON', async () => {
      const anonymous = new UiBrowser(t.baseUrl);
      const page = await anonymous.get('/connect');
      expect(page.status).toBe(401);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(await page.text()).toContain('Your session has ended');
      expect((await anonymous.get('/connect/state')).status).toBe(401);
      expect((await anonymous.get('/connect/done?error=access_denied')).status).toBe(401);
      const forged = await fetch(`${t.baseUrl}/connect`, {
        headers: { cookie: `pdeck_connect=${'x'.repeat(43)}` },
      });
      expect(forged.status).toBe(401);
    });

    it('serves its pages with a CSP that allows PDeck to frame them, and keeps window.opener', async () => {
      const browser = new UiBrowser(t.baseUrl);
      await browser.open(
        await connectSessionUrl(t.baseUrl, { userId: USER_A, returnTo: RETURN_TO }),
      );
      const res = await browser.get('/connect');
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toContain(`frame-ancestors ${PDECK}`);
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe');
      expect(csp).toContain(`form-action 'self' ${new URL(fake.url).origin}`);
      expect(res.headers.get('cross-origin-opener-policy')).toBe('unsafe-none');
      expect(res.headers.get('x-frame-options')).toBeNull();
      expect(res.headers.get('cache-control')).toBe('no-store');
      // The API keeps its own headers.
      const api = await fetch(`${t.baseUrl}/health/live`);
      expect(api.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(api.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    });
  });

  describe('connecting, acting and isolation', () => {
    const a = () => new UiBrowser(t.baseUrl);
    let browserA: UiBrowser;
    let browserB: UiBrowser;

    beforeAll(async () => {
      browserA = a();
      await browserA.open(
        await connectSessionUrl(t.baseUrl, { userId: USER_A, returnTo: RETURN_TO }),
      );
      browserB = a();
      await browserB.open(
        await connectSessionUrl(t.baseUrl, { userId: USER_B, returnTo: RETURN_TO }),
      );
    });

    it('lists the enabled integrations with what they sync', async () => {
      const html = await (await browserA.get('/connect')).text();
      expect(html).toContain('Google Calendar');
      expect(html).toContain('Syncs your events into PDeck.');
      expect(html).toContain('Connect Google Calendar');
      expect(html).toContain('No accounts are connected yet.');
    });

    it('refuses a form without the session CSRF token', async () => {
      expect((await browserA.post('/connect/google-calendar/start', {})).status).toBe(403);
      const otherToken = await browserB.csrf();
      const res = await browserA.post('/connect/google-calendar/start', { csrf: otherToken });
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('This form has expired');
    });

    it('connects through the same flow as the API: consent, /connect/done, confirmed by PDeck', async () => {
      const csrf = await browserA.csrf();
      const start = await browserA.post('/connect/google-calendar/start', { csrf });
      expect(start.status).toBe(303);
      const consent = new URL(start.headers.get('location')!);
      expect(consent.origin).toBe(new URL(fake.url).origin);
      consent.searchParams.set('auto', 'allow');
      consent.searchParams.set('account', ALICE);
      const toCallback = await fetch(consent, { redirect: 'manual' });
      const callback = await fetch(toCallback.headers.get('location')!, { redirect: 'manual' });
      expect(callback.status).toBe(302);
      // A COOP of same-origin on this redirect would cut the popup's window.opener.
      expect(callback.headers.get('cross-origin-opener-policy')).toBe('unsafe-none');
      const landed = new URL(callback.headers.get('location')!);
      expect(`${landed.origin}${landed.pathname}`).toBe(`${t.baseUrl}/connect/done`);
      connectionId = landed.searchParams.get('connectionId')!;
      const confirm = landed.searchParams.get('confirm')!;
      expect(connectionId).toMatch(/^[0-9a-f-]{36}$/);

      // The landing page hands the result over; it never confirms by itself.
      const done = await browserA.get(`${landed.pathname}${landed.search}`);
      expect(done.status).toBe(200);
      const html = await done.text();
      expect(html).toContain(`data-connection-id="${connectionId}"`);
      expect(html).toContain(`data-confirm="${confirm}"`);
      expect(html).toContain('data-provider="google-calendar"');
      expect(html).toContain(`data-target-origin="${PDECK}"`);
      const continueUrl = new URL(
        /data-continue-url="([^"]+)"/.exec(html)![1].replace(/&#38;/g, '&'),
      );
      expect(`${continueUrl.origin}${continueUrl.pathname}`).toBe(RETURN_TO);
      expect(continueUrl.searchParams.get('connectionId')).toBe(connectionId);
      expect(continueUrl.searchParams.get('confirm')).toBe(confirm);
      const waiting = await stateOf(browserA);
      expect(waiting.connections).toMatchObject([
        { id: connectionId, state: 'awaiting_confirmation', awaitingConfirmation: true },
      ]);
      expect(JSON.stringify(waiting)).not.toContain(confirm);

      // User B's session cannot pick up A's result.
      expect((await browserB.get(`${landed.pathname}${landed.search}`)).status).toBe(404);

      const confirmed = await fetch(`${t.baseUrl}/v1/connections/${connectionId}/confirm`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ userId: USER_A, token: confirm }),
      });
      expect(confirmed.status).toBe(200);
      expect(await confirmed.json()).toMatchObject({ status: 'active', accountId: ALICE });

      const synced = await eventually(async () => {
        const state = await stateOf(browserA);
        const c = state.connections[0];
        return c?.state === 'connected' && c.lastSyncedAt && !state.changing ? c : undefined;
      }, 'the first sync shown as connected');
      expect(synced.counts.event).toBeGreaterThan(5);
      expect(synced.statusText).toBe('Connected.');
      expect(new Date(synced.nextSyncAt!).getTime()).toBeGreaterThan(Date.now());
      const page = await (await browserA.get('/connect')).text();
      expect(page).toContain(`Google Calendar: ${ALICE}`);
      expect(page).toContain(`${synced.counts.event} events`);
    });

    it("user B's session never shows A's connection nor acts on it (404)", async () => {
      expect((await stateOf(browserB)).connections).toEqual([]);
      expect(await (await browserB.get('/connect')).text()).not.toContain(ALICE);
      const csrf = await browserB.csrf();
      const sync = await browserB.post(`/connect/connections/${connectionId}/sync`, { csrf });
      expect(sync.status).toBe(404);
      expect(sync.headers.get('content-type')).toContain('text/html');
      const gone = await browserB.post(`/connect/connections/${connectionId}/disconnect`, {
        csrf,
        confirmed: 'yes',
      });
      expect(gone.status).toBe(404);
      expect((await browserB.get(`/connect/connections/${connectionId}/disconnect`)).status).toBe(
        404,
      );
      expect((await browserB.post(`/connect/connections/not-a-uuid/sync`, { csrf })).status).toBe(
        404,
      );
      const [row] = (await db.query('SELECT status FROM connections WHERE id = $1', [
        connectionId,
      ])) as { status: string }[];
      expect(row.status).toBe('active');
    });

    it('Sync now starts a manual sync', async () => {
      const csrf = await browserA.csrf();
      const res = await browserA.post(`/connect/connections/${connectionId}/sync`, { csrf });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/connect?notice=sync-started');
      const [{ n }] = (await db.query(
        "SELECT count(*)::int AS n FROM sync_runs WHERE connection_id = $1 AND trigger = 'manual'",
        [connectionId],
      )) as { n: number }[];
      expect(n).toBe(1);
      expect(await (await browserA.get('/connect?notice=sync-started')).text()).toContain(
        'A sync has started.',
      );
      await eventually(
        async () => ((await stateOf(browserA)).changing ? undefined : true),
        'the sync to end',
      );
    });

    it('a session without returnTo manages but does not connect', async () => {
      const browser = new UiBrowser(t.baseUrl);
      await browser.open(await connectSessionUrl(t.baseUrl, { userId: USER_A }));
      const html = await (await browser.get('/connect')).text();
      expect(html).not.toContain('Connect Google Calendar');
      expect(html).toContain('open this page from PDeck');
      expect(html).toContain('Sync now'); // managing still works
      const res = await browser.post('/connect/google-calendar/start', {
        csrf: await browser.csrf(),
      });
      expect(res.status).toBe(409);
      expect(await res.text()).toContain('without a way back to PDeck');
    });

    it('Disconnect asks for confirmation first, then disconnects', async () => {
      const csrf = await browserA.csrf();
      const confirmPage = await browserA.get(`/connect/connections/${connectionId}/disconnect`);
      expect(confirmPage.status).toBe(200);
      expect(await confirmPage.text()).toContain(`Yes, disconnect ${ALICE}`);
      const unconfirmed = await browserA.post(`/connect/connections/${connectionId}/disconnect`, {
        csrf,
      });
      expect(unconfirmed.status).toBe(303);
      expect(unconfirmed.headers.get('location')).toBe(
        `/connect/connections/${connectionId}/disconnect`,
      );
      expect(
        (await db.query('SELECT status FROM connections WHERE id = $1', [connectionId]))[0].status,
      ).toBe('active');
      const done = await browserA.post(`/connect/connections/${connectionId}/disconnect`, {
        csrf,
        confirmed: 'yes',
      });
      expect(done.status).toBe(303);
      expect(
        (await db.query('SELECT status FROM connections WHERE id = $1', [connectionId]))[0].status,
      ).toBe('disconnected');
      expect((await stateOf(browserA)).connections).toEqual([]);
    });

    it('connecting a disconnected account again hands over the same connection and confirms it', async () => {
      const csrf = await browserA.csrf();
      const start = await browserA.post('/connect/google-calendar/start', { csrf });
      const consent = new URL(start.headers.get('location')!);
      consent.searchParams.set('auto', 'allow');
      consent.searchParams.set('account', ALICE);
      const toCallback = await fetch(consent, { redirect: 'manual' });
      const callback = await fetch(toCallback.headers.get('location')!, { redirect: 'manual' });
      const landed = new URL(callback.headers.get('location')!);
      expect(landed.searchParams.get('connectionId')).toBe(connectionId);
      const done = await browserA.get(`${landed.pathname}${landed.search}`);
      expect(done.status).toBe(200);
      expect((await stateOf(browserA)).connections).toMatchObject([
        { id: connectionId, state: 'awaiting_confirmation', awaitingConfirmation: true },
      ]);
      const confirmed = await fetch(`${t.baseUrl}/v1/connections/${connectionId}/confirm`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ userId: USER_A, token: landed.searchParams.get('confirm') }),
      });
      expect(confirmed.status).toBe(200);
      await eventually(async () => {
        const [c] = (await stateOf(browserA)).connections;
        return c?.state === 'connected' && !c.awaitingConfirmation ? true : undefined;
      }, 'the reconnected account shown as connected');
    });

    it('hands an error from the provider over the same way', async () => {
      const done = await browserA.get('/connect/done?error=access_denied');
      expect(done.status).toBe(200);
      const html = await done.text();
      expect(html).toContain('data-kind="error" data-error="access_denied"');
      expect(html).toContain('Access was not granted at the provider.');
      expect(html).toContain(`data-continue-url="${RETURN_TO}?error=access_denied"`);
      expect((await browserA.get('/connect/done')).status).toBe(400);
      expect((await browserA.get('/connect/done?error=%3Cscript%3E')).status).toBe(400);
    });

    it('an internal landing is not a returnTo API callers may use', async () => {
      const res = await fetch(`${t.baseUrl}/v1/connections/google-calendar/authorize`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ userId: USER_A, returnTo: `${t.baseUrl}/connect/done` }),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_return_to' });
    });
  });
});

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}
