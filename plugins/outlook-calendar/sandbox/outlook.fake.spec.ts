import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, BOB, OutlookFake, SANDBOX_OUTLOOK_CLIENT } from './index.js';

const SCOPES = ['offline_access', 'User.Read', 'Calendars.Read'];
const DAY = 86_400_000;

/** A notification endpoint: answers validation (or not), records notifications. */
class Receiver {
  readonly received: Array<{ value: Array<Record<string, unknown>> }> = [];
  mode: 'echo' | 'wrong' | 'json' = 'echo';
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const token = url.searchParams.get('validationToken');
        if (token !== null) {
          if (this.mode === 'json') res.writeHead(200, { 'content-type': 'application/json' });
          else res.writeHead(200, { 'content-type': 'text/plain' });
          return res.end(this.mode === 'wrong' ? 'nope' : token);
        }
        this.received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server?.close(() => r()));
  }
}

describe('OutlookFake', () => {
  const fake = new OutlookFake({ allowHttpLoopback: true });
  const receiver = new Receiver();
  let token: string;

  beforeAll(async () => {
    await fake.start();
    await receiver.start();
    token = fake.oauth.issueTokens(ALICE, SCOPES).access_token;
  });
  afterAll(async () => {
    await fake.stop();
    await receiver.stop();
  });

  const graph = (path: string, init: RequestInit & { as?: string } = {}) =>
    fetch(
      fake.local(path.startsWith('https://') ? path : `https://graph.microsoft.com/v1.0${path}`),
      {
        ...init,
        headers: {
          authorization: `Bearer ${init.as ?? token}`,
          'content-type': 'application/json',
          ...(init.headers as Record<string, string>),
        },
      },
    );
  const window = () => {
    const day = Math.floor(Date.now() / DAY) * DAY;
    return `startDateTime=${new Date(day - 30 * DAY).toISOString()}&endDateTime=${new Date(day + 365 * DAY).toISOString()}`;
  };
  /** Follows one delta round to its deltaLink; returns the entries and the link. */
  async function round(first: string, pageSize = 3) {
    const entries: Array<Record<string, unknown>> = [];
    let url = first;
    for (let pages = 1; ; pages++) {
      const res = await graph(url, {
        headers: { prefer: `odata.maxpagesize=${pageSize}, outlook.timezone="UTC"` },
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, unknown>;
      const value = body.value as Array<Record<string, unknown>>;
      expect(value.length).toBeLessThanOrEqual(pageSize);
      entries.push(...value);
      if (body['@odata.deltaLink'])
        return { entries, deltaLink: String(body['@odata.deltaLink']), pages };
      url = String(body['@odata.nextLink']);
      expect(url).toMatch(
        /^https:\/\/graph\.microsoft\.com\/v1\.0\/me\/calendarView\/delta\?\$skiptoken=/,
      );
    }
  }

  describe('identity platform', () => {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const redirect = 'http://127.0.0.1:1/callback';
    async function code(scope = SCOPES.join(' ')): Promise<string> {
      const url = new URL(`${fake.url}/common/oauth2/v2.0/authorize`);
      const params = {
        client_id: SANDBOX_OUTLOOK_CLIENT.clientId,
        response_type: 'code',
        redirect_uri: redirect,
        scope,
        state: 's',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        auto: 'allow',
        account: ALICE,
      };
      for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status).toBe(302);
      const back = new URL(res.headers.get('location')!);
      expect(back.searchParams.get('state')).toBe('s');
      return back.searchParams.get('code')!;
    }
    const tokenCall = (form: Record<string, string>) =>
      fetch(`${fake.url}/common/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: SANDBOX_OUTLOOK_CLIENT.clientId,
          client_secret: SANDBOX_OUTLOOK_CLIENT.clientSecret,
          redirect_uri: redirect,
          ...form,
        }),
      });

    it('redeems a code with the PKCE verifier and rotates refresh tokens', async () => {
      const res = await tokenCall({
        grant_type: 'authorization_code',
        code: await code(),
        code_verifier: verifier,
      });
      expect(res.status).toBe(200);
      const issued = (await res.json()) as Record<string, string | number>;
      expect(issued).toMatchObject({
        token_type: 'Bearer',
        expires_in: 3599,
        ext_expires_in: 3599,
      });
      const refreshed = await tokenCall({
        grant_type: 'refresh_token',
        refresh_token: String(issued.refresh_token),
      });
      const next = (await refreshed.json()) as Record<string, string>;
      expect(next.refresh_token).toBeTruthy();
      expect(next.refresh_token).not.toBe(issued.refresh_token);
      // The old one was replaced: the fake refuses it (Microsoft asks clients to discard it).
      const old = await tokenCall({
        grant_type: 'refresh_token',
        refresh_token: String(issued.refresh_token),
      });
      expect(old.status).toBe(400);
    });

    it('answers a wrong verifier with the identity platform error shape', async () => {
      const res = await tokenCall({
        grant_type: 'authorization_code',
        code: await code(),
        code_verifier: 'wrong'.repeat(10),
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ error: 'invalid_grant' });
      expect(body.error_description).toMatch(/^AADSTS\d+: /);
      expect(body.error_codes).toEqual([expect.any(Number)]);
      expect(Object.keys(body).sort()).toEqual([
        'correlation_id',
        'error',
        'error_codes',
        'error_description',
        'timestamp',
        'trace_id',
      ]);
    });

    it('issues no refresh token without offline_access', async () => {
      const res = await tokenCall({
        grant_type: 'authorization_code',
        code: await code('User.Read Calendars.Read'),
        code_verifier: verifier,
      });
      expect(await res.json()).not.toHaveProperty('refresh_token');
    });
  });

  describe('Graph', () => {
    it('401 without or with a bad token, 403 without Calendars.Read', async () => {
      const none = await fetch(`${fake.url}/v1.0/me`);
      expect(none.status).toBe(401);
      expect(await none.json()).toMatchObject({ error: { code: 'InvalidAuthenticationToken' } });
      expect((await graph('/me', { as: 'bad' })).status).toBe(401);
      const narrow = fake.oauth.issueTokens(ALICE, ['User.Read']).access_token;
      expect((await graph('/me', { as: narrow })).status).toBe(200);
      const denied = await graph('/me/calendars', { as: narrow });
      expect(denied.status).toBe(403);
      expect(await denied.json()).toMatchObject({ error: { code: 'ErrorAccessDenied' } });
    });

    it('/me gives the id; a personal account has mail null', async () => {
      expect(await (await graph('/me')).json()).toMatchObject({
        id: fake.mailbox(ALICE).user.id,
        mail: ALICE,
      });
      const bob = fake.oauth.issueTokens(BOB, SCOPES).access_token;
      expect(await (await graph('/me', { as: bob })).json()).toMatchObject({
        mail: null,
        userPrincipalName: BOB,
      });
    });

    it('/me/calendars pages with @odata.nextLink', async () => {
      const first = (await (await graph('/me/calendars?$top=1')).json()) as Record<string, unknown>;
      expect(first.value).toEqual([
        expect.objectContaining({ name: 'Calendar', isDefaultCalendar: true }),
      ]);
      const second = (await (await graph(String(first['@odata.nextLink']))).json()) as Record<
        string,
        unknown
      >;
      expect(second.value).toEqual([expect.objectContaining({ isDefaultCalendar: false })]);
      expect(second).not.toHaveProperty('@odata.nextLink');
    });

    it('calendarView delta needs a window (400) and pages to a deltaLink', async () => {
      const missing = await graph('/me/calendarView/delta');
      expect(missing.status).toBe(400);
      const { entries, pages } = await round(`/me/calendarView/delta?${window()}`);
      const inWindow = [...fake.mailbox(ALICE).events.values()].filter(
        (e) => e.subject !== 'Long ago',
      );
      expect(entries.map((e) => e.id).sort()).toEqual(inWindow.map((e) => e.id).sort());
      expect(pages).toBe(Math.ceil(inWindow.length / 3));
      expect(entries[0]).toMatchObject({
        '@odata.type': '#microsoft.graph.event',
        start: { timeZone: 'UTC' },
      });
      expect(String((entries[0].start as { dateTime: string }).dateTime)).toMatch(
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}$/,
      );
    });

    it('the per-calendar form serves the default calendar; another one is empty; unknown is 404', async () => {
      const [main, holidays] = fake.mailbox(ALICE).calendars;
      const own = await round(
        `/me/calendars/${encodeURIComponent(main.id)}/calendarView/delta?${window()}`,
        50,
      );
      expect(own.entries.length).toBe(fake.mailbox(ALICE).events.size - 1); // all but 'Long ago'
      const other = await round(
        `/me/calendars/${encodeURIComponent(holidays.id)}/calendarView/delta?${window()}`,
      );
      expect(other.entries).toEqual([]);
      fake.createEvent(ALICE, { subject: 'Not in holidays' });
      expect((await round(other.deltaLink)).entries).toEqual([]);
      expect((await graph(`/me/calendars/nope/calendarView/delta?${window()}`)).status).toBe(404);
    });

    it('a delta round lists changes in full and deletions as @removed; expiry answers 410', async () => {
      const { deltaLink } = await round(`/me/calendarView/delta?${window()}`);
      const [a, b] = [...fake.mailbox(ALICE).events.values()].filter(
        (e) => e.subject !== 'Long ago',
      );
      fake.updateEvent(ALICE, a.id, { subject: 'Changed' });
      fake.updateEvent(ALICE, a.id, { subject: 'Changed twice' });
      fake.deleteEvent(ALICE, b.id);
      const moved = fake.createEvent(ALICE, {
        subject: 'Far',
        start: new Date(Date.now() + 800 * DAY).toISOString(),
      });
      const changes = await round(deltaLink);
      expect(changes.entries).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ id: a.id, subject: 'Changed twice' }),
          { '@odata.type': '#microsoft.graph.event', id: b.id, '@removed': { reason: 'deleted' } },
          expect.objectContaining({ id: moved.id, '@removed': { reason: 'deleted' } }),
        ]),
      );
      expect(changes.entries).toHaveLength(3);
      fake.expireDeltaTokens(ALICE);
      const gone = await graph(changes.deltaLink);
      expect(gone.status).toBe(410);
      expect(await gone.json()).toMatchObject({ error: { code: 'SyncStateNotFound' } });
      expect(gone.headers.get('location')).toMatch(/startDateTime=.*&\$deltatoken=$/);
    });
  });

  describe('subscriptions', () => {
    const create = (over: Record<string, unknown> = {}) =>
      graph('/subscriptions', {
        method: 'POST',
        body: JSON.stringify({
          changeType: 'created,updated,deleted',
          notificationUrl: receiver.url,
          lifecycleNotificationUrl: receiver.url,
          resource: 'me/events',
          expirationDateTime: new Date(Date.now() + 4000 * 60_000).toISOString(),
          clientState: 'secret-state',
          ...over,
        }),
      });

    it('validates both URLs before 201, refuses a wrong answer, http elsewhere and long expiries', async () => {
      receiver.mode = 'wrong';
      expect((await create()).status).toBe(400);
      receiver.mode = 'json';
      expect((await create()).status).toBe(400);
      receiver.mode = 'echo';
      expect((await create({ notificationUrl: 'http://example.com/hook' })).status).toBe(400);
      const tooLong = await create({
        expirationDateTime: new Date(Date.now() + 4300 * 60_000).toISOString(),
      });
      expect(tooLong.status).toBe(400);
      const before = fake.subscriptions.validations.length;
      const res = await create();
      expect(res.status).toBe(201);
      expect(await res.json()).toMatchObject({
        resource: 'me/events',
        clientState: 'secret-state',
        changeType: 'created,updated,deleted',
      });
      expect(fake.subscriptions.validations.slice(before).map((v) => v.ok)).toEqual([true, true]);
    });

    it('sends change and lifecycle notifications; PATCH renews, DELETE stops', async () => {
      const sub = (await (await create()).json()) as { id: string };
      receiver.received.length = 0;
      const event = fake.createEvent(ALICE, { subject: 'Notify me' });
      await fake.whenIdle();
      const mine = receiver.received
        .flatMap((b) => b.value)
        .filter((n) => n.subscriptionId === sub.id);
      expect(mine).toEqual([
        expect.objectContaining({
          changeType: 'created',
          clientState: 'secret-state',
          tenantId: fake.mailbox(ALICE).tenantId,
          resourceData: expect.objectContaining({ id: event.id }),
        }),
      ]);
      expect(fake.sendLifecycle(sub.id, 'missed')).toBe(true);
      await fake.whenIdle();
      expect(receiver.received.at(-1)!.value[0]).toMatchObject({
        subscriptionId: sub.id,
        lifecycleEvent: 'missed',
        clientState: 'secret-state',
      });

      const later = new Date(Date.now() + 4200 * 60_000).toISOString();
      const patched = await graph(`/subscriptions/${sub.id}`, {
        method: 'PATCH',
        body: JSON.stringify({ expirationDateTime: later }),
      });
      expect(patched.status).toBe(200);
      expect(fake.subscriptions.all.get(sub.id)!.renewals).toBe(1);
      const tooFar = new Date(Date.now() + 5000 * 60_000).toISOString();
      expect(
        (
          await graph(`/subscriptions/${sub.id}`, {
            method: 'PATCH',
            body: JSON.stringify({ expirationDateTime: tooFar }),
          })
        ).status,
      ).toBe(400);
      const bob = fake.oauth.issueTokens(BOB, SCOPES).access_token;
      expect((await graph(`/subscriptions/${sub.id}`, { method: 'DELETE', as: bob })).status).toBe(
        404,
      );
      expect((await graph(`/subscriptions/${sub.id}`, { method: 'DELETE' })).status).toBe(204);
      expect((await graph(`/subscriptions/${sub.id}`, { method: 'DELETE' })).status).toBe(404);
    });

    it('refuses http notification URLs unless the loopback flag is set', async () => {
      const strict = new OutlookFake();
      await strict.start();
      try {
        const own = strict.oauth.issueTokens(ALICE, SCOPES).access_token;
        const res = await fetch(`${strict.url}/v1.0/subscriptions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${own}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            changeType: 'updated',
            notificationUrl: receiver.url,
            resource: 'me/events',
            expirationDateTime: new Date(Date.now() + 60_000).toISOString(),
          }),
        });
        expect(res.status).toBe(400);
      } finally {
        await strict.stop();
      }
    });
  });
});
