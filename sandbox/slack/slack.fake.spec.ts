import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signSlackRequest } from './events.js';
import { SEED_SLACK } from './seed.js';
import { SANDBOX_SLACK_APP } from './slack-oauth.js';
import { DEFAULT_BOT_SCOPES, SlackFake } from './slack.fake.js';

type Json = Record<string, any>;
const APP = SANDBOX_SLACK_APP;
const { users: U, channels: C } = SEED_SLACK;
const CB = 'http://127.0.0.1:1/slack/callback';
let clock = Date.parse('2026-03-04T12:00:00Z');
const now = () => clock;

/** A Web API call: POST form (or GET query) with a bearer token. */
async function call(
  fake: SlackFake,
  method: string,
  args: Record<string, string> = {},
  token?: string,
  verb: 'GET' | 'POST' = 'POST',
): Promise<{ status: number; headers: Headers; body: Json }> {
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const res =
    verb === 'GET'
      ? await fetch(`${fake.url}/api/${method}?${new URLSearchParams(args)}`, { headers: auth })
      : await fetch(`${fake.url}/api/${method}`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(args),
        });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Json };
}

/** oauth.v2.access with the client credentials in HTTP Basic, or in the body with `inBody`. */
async function access(
  fake: SlackFake,
  args: Record<string, string>,
  inBody = false,
): Promise<Json> {
  const creds = { client_id: APP.clientId, client_secret: APP.clientSecret };
  const basic = Buffer.from(`${creds.client_id}:${creds.client_secret}`).toString('base64');
  const res = await fetch(`${fake.url}/api/oauth.v2.access`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(inBody ? {} : { authorization: `Basic ${basic}` }),
    },
    body: new URLSearchParams(inBody ? { ...creds, ...args } : args),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

async function authorize(fake: SlackFake, query: Record<string, string>): Promise<Response> {
  const q = new URLSearchParams({
    client_id: APP.clientId,
    redirect_uri: CB,
    state: 's-1',
    ...query,
  });
  return fetch(`${fake.url}/oauth/v2/authorize?${q}`, { redirect: 'manual' });
}

/** Authorize with auto=allow and answer the code. */
async function codeFor(fake: SlackFake, query: Record<string, string>): Promise<string> {
  const res = await authorize(fake, { auto: 'allow', account: 'alice', ...query });
  expect(res.status).toBe(302);
  const back = new URL(res.headers.get('location')!);
  expect(back.searchParams.get('state')).toBe('s-1');
  return back.searchParams.get('code')!;
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}
interface Answer {
  status?: number;
  delayMs?: number;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * A request URL recording every POST. It answers url_verification with the challenge as text,
 * then the scripted answers in turn, then 200.
 */
async function receiver(script: Answer[] = []) {
  const posts: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      posts.push({ headers: req.headers, body });
      const parsed = JSON.parse(body) as Json;
      const answer: Answer =
        parsed.type === 'url_verification'
          ? { headers: { 'content-type': 'text/plain' }, body: parsed.challenge as string }
          : (script.shift() ?? {});
      setTimeout(() => {
        res.on('error', () => undefined);
        res.writeHead(answer.status ?? 200, answer.headers).end(answer.body ?? '');
      }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  const events = () => posts.filter((p) => (JSON.parse(p.body) as Json).type === 'event_callback');
  const close = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  return { url, posts, events, close };
}

/** What a receiver must do: HMAC over the raw bytes, a 5-minute window, a constant-time compare. */
function verifies(r: Received, secret: string, nowSec: number): boolean {
  const ts = String(r.headers['x-slack-request-timestamp']);
  if (Math.abs(nowSec - Number(ts)) > 300) return false;
  const expected = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${r.body}`).digest('hex')}`;
  const got = String(r.headers['x-slack-signature']);
  return got.length === expected.length && timingSafeEqual(Buffer.from(got), Buffer.from(expected));
}

describe('OAuth v2', () => {
  let fake: SlackFake;
  beforeAll(async () => {
    fake = new SlackFake({ now });
    await fake.start();
  });
  afterAll(() => fake.stop());

  it('authorize with comma scopes -> code -> oauth.v2.access (Basic) answers the documented shape', async () => {
    const page = await authorize(fake, { scope: 'channels:read,channels:history' });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/Alice Archer[\s\S]*Allow/);

    const code = await codeFor(fake, {
      scope: 'channels:read,channels:history',
      user_scope: 'channels:history,users:read',
    });
    const t = await access(fake, { grant_type: 'authorization_code', code, redirect_uri: CB });
    expect(Object.keys(t)).toEqual([
      'ok',
      'access_token',
      'token_type',
      'scope',
      'bot_user_id',
      'app_id',
      'team',
      'enterprise',
      'is_enterprise_install',
      'expires_in',
      'refresh_token',
      'authed_user',
    ]);
    expect(t).toMatchObject({
      ok: true,
      token_type: 'bot',
      scope: 'channels:read,channels:history',
      bot_user_id: U.bot,
      app_id: APP.appId,
      team: { name: 'PDeck Sandbox', id: 'T0PDECKSBX' },
      enterprise: null,
      is_enterprise_install: false,
      expires_in: 43_200,
    });
    expect(t.access_token).toMatch(/^xoxe\.xoxb-/);
    expect(t.refresh_token).toMatch(/^xoxe-1-/);
    expect(t.authed_user).toEqual({
      id: U.alice,
      scope: 'channels:history,users:read',
      access_token: expect.stringMatching(/^xoxe\.xoxp-/),
      token_type: 'user',
      expires_in: 43_200,
      refresh_token: expect.stringMatching(/^xoxe-1-/),
    });
    expect(fake.data.tokenInfo(t.authed_user.access_token)).toMatchObject({
      kind: 'user',
      team: 'T0PDECKSBX',
      userId: U.alice,
      revoked: false,
      expiresAt: clock + 43_200_000,
    });
    // The code is single use.
    const again = await access(fake, { grant_type: 'authorization_code', code, redirect_uri: CB });
    expect(again).toEqual({ ok: false, error: 'invalid_code' });
  });

  it('client credentials in the body; authed_user is only {id} without user_scope; the errors', async () => {
    const code = await codeFor(fake, { scope: 'channels:read', account: 'bob' });
    // No grant_type: a code means authorization_code.
    const t = await access(fake, { code, redirect_uri: CB }, true);
    expect(t.ok).toBe(true);
    expect(t.authed_user).toEqual({ id: U.bob });

    const mismatch = await codeFor(fake, { scope: 'channels:read' });
    expect(await access(fake, { code: mismatch, redirect_uri: `${CB}/other` })).toEqual({
      ok: false,
      error: 'bad_redirect_uri',
    });
    const late = await codeFor(fake, { scope: 'channels:read' });
    clock += 10 * 60_000 + 1;
    expect((await access(fake, { code: late, redirect_uri: CB })).error).toBe('invalid_code');

    const post = (body: Record<string, string>) =>
      fetch(`${fake.url}/api/oauth.v2.access`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<Json>);
    expect(await post({ client_id: 'nope', client_secret: 'x', code: 'c' })).toEqual({
      ok: false,
      error: 'invalid_client_id',
    });
    expect(await post({ client_id: APP.clientId, client_secret: 'wrong', code: 'c' })).toEqual({
      ok: false,
      error: 'bad_client_secret',
    });
    expect(
      (
        await post({
          client_id: APP.clientId,
          client_secret: APP.clientSecret,
          grant_type: 'password',
        })
      ).error,
    ).toBe('invalid_grant_type');
  });

  it('authorize refuses a space-separated scope list and an unknown client; deny redirects with access_denied', async () => {
    const spaced = await authorize(fake, {
      scope: 'channels:read channels:history',
      auto: 'allow',
    });
    expect(spaced.status).toBe(400);
    expect(await spaced.text()).toContain('invalid_scope');
    expect((await authorize(fake, { scope: 'channels:read', client_id: 'nope' })).status).toBe(400);
    const denied = await authorize(fake, { scope: 'channels:read', auto: 'deny' });
    const back = new URL(denied.headers.get('location')!);
    expect(Object.fromEntries(back.searchParams)).toEqual({ error: 'access_denied', state: 's-1' });
  });

  it('refresh tokens are single use: a second use within the grace answers the same pair, later invalid_refresh_token; at most 2 live tokens', async () => {
    const first = fake.issueTokens('alice', { scopes: ['channels:read'] });
    const refresh = (token: string) =>
      access(fake, { grant_type: 'refresh_token', refresh_token: token });
    const r1 = await refresh(first.refresh_token as string);
    expect(Object.keys(r1).sort()).toEqual(
      [
        'ok',
        'app_id',
        'scope',
        'token_type',
        'access_token',
        'bot_user_id',
        'expires_in',
        'refresh_token',
        'team',
        'enterprise',
        'is_enterprise_install',
      ].sort(),
    );
    expect(r1).toMatchObject({
      ok: true,
      token_type: 'bot',
      bot_user_id: U.bot,
      expires_in: 43_200,
    });
    expect(r1.access_token).not.toBe(first.access_token);
    expect(r1.refresh_token).not.toBe(first.refresh_token);

    clock += 30_000;
    const reuse = await refresh(first.refresh_token as string);
    expect(reuse).toEqual(r1);
    expect(fake.counters.refreshReuse).toBe(1);
    clock += 31_000;
    expect(await refresh(first.refresh_token as string)).toEqual({
      ok: false,
      error: 'invalid_refresh_token',
    });

    // Three tokens of one grant: the oldest is revoked, the newer two still work.
    const r2 = await refresh(r1.refresh_token as string);
    expect((await call(fake, 'auth.test', {}, first.access_token as string)).body.error).toBe(
      'token_revoked',
    );
    expect((await call(fake, 'auth.test', {}, r1.access_token as string)).body.ok).toBe(true);
    expect((await call(fake, 'auth.test', {}, r2.access_token as string)).body.ok).toBe(true);
    clock += 43_200_000;
    expect((await call(fake, 'auth.test', {}, r2.access_token as string)).body.error).toBe(
      'token_expired',
    );
  });

  it('a user token refresh answers the new pair at the top level with authed_user {id}', async () => {
    const t = fake.issueTokens('bob', { userScopes: ['users:read'] });
    const user = t.authed_user as Json;
    const r = await access(fake, {
      grant_type: 'refresh_token',
      refresh_token: user.refresh_token,
    });
    expect(r).toMatchObject({
      ok: true,
      token_type: 'user',
      scope: 'users:read',
      authed_user: { id: U.bob },
      team: { id: 'T0PDECKSBX' },
      expires_in: 43_200,
    });
    expect(r.bot_user_id).toBeUndefined();
    expect(r.access_token).toMatch(/^xoxe\.xoxp-/);
    expect(r.refresh_token).toMatch(/^xoxe-1-/);
    const me = await call(fake, 'auth.test', {}, r.access_token as string);
    expect(me.body).toMatchObject({ user: 'bob', user_id: U.bob });
    expect(fake.issuedSecrets()).toEqual(
      expect.arrayContaining([
        r.access_token,
        r.refresh_token,
        APP.clientSecret,
        APP.signingSecret,
      ]),
    );
  });

  it('without rotation: xoxb-/xoxp- tokens without expiry or refresh token; auth.revoke ends the whole authorization', async () => {
    const plain = new SlackFake({ now, apps: [{ ...APP, tokenRotation: false }] });
    await plain.start();
    try {
      const t = plain.issueTokens('alice');
      expect(t.access_token).toMatch(/^xoxb-\d+-\d+-[0-9a-f]{24}$/);
      expect((t.authed_user as Json).access_token).toMatch(/^xoxp-/);
      expect(t).not.toHaveProperty('refresh_token');
      expect(t).not.toHaveProperty('expires_in');
      const second = plain.issueTokens('alice', { scopes: ['channels:read'] });
      const revoke = await call(plain, 'auth.revoke', {}, t.access_token as string);
      expect(revoke.body).toEqual({ ok: true, revoked: true });
      expect((await call(plain, 'auth.test', {}, second.access_token as string)).body.error).toBe(
        'token_revoked',
      );
      // The user token is another authorization.
      const user = (t.authed_user as Json).access_token as string;
      expect((await call(plain, 'auth.test', {}, user)).body.ok).toBe(true);
    } finally {
      await plain.stop();
    }
  });
});

describe('Web API', () => {
  let fake: SlackFake;
  let bot: string;
  let alice: string;
  /** conversations.history/replies allow 1 call a minute: each call moves the clock on first. */
  const read = (method: string, args: Record<string, string>, token = bot) => {
    clock += 61_000;
    return call(fake, method, args, token);
  };
  const history = (args: Record<string, string>, token = bot) =>
    read('conversations.history', args, token);

  beforeAll(async () => {
    fake = new SlackFake({ now });
    await fake.start();
    const t = fake.issueTokens('alice');
    bot = t.access_token as string;
    alice = (t.authed_user as Json).access_token as string;
  });
  afterAll(() => fake.stop());

  it('auth.test answers the bot and the user; x-oauth-scopes lists the scopes; token errors', async () => {
    const b = await call(fake, 'auth.test', {}, bot, 'GET');
    expect(b.status).toBe(200);
    expect(b.headers.get('x-oauth-scopes')).toBe(DEFAULT_BOT_SCOPES.join(','));
    expect(b.body).toEqual({
      ok: true,
      url: 'https://pdeck-sandbox.slack.com/',
      team: 'PDeck Sandbox',
      user: 'pdeck',
      team_id: 'T0PDECKSBX',
      user_id: U.bot,
      bot_id: SEED_SLACK.botId,
      is_enterprise_install: false,
    });
    const u = await call(fake, 'auth.test', {}, alice);
    expect(u.body).toMatchObject({ user: 'alice', user_id: U.alice });
    expect(u.body).not.toHaveProperty('bot_id');
    expect((await call(fake, 'auth.test')).body).toEqual({ ok: false, error: 'not_authed' });
    expect((await call(fake, 'auth.test', {}, 'xoxb-nope')).body.error).toBe('invalid_auth');
    const unknown = await fetch(`${fake.url}/api/chat.unknownMethod`, { method: 'POST' });
    expect(await unknown.json()).toEqual({ ok: false, error: 'unknown_method' });
  });

  it('auth.revoke with rotation revokes only that token; test=1 revokes nothing', async () => {
    const a = (fake.issueTokens('bob', { userScopes: ['users:read'] }).authed_user as Json)
      .access_token as string;
    const b = (fake.issueTokens('bob', { userScopes: ['users:read'] }).authed_user as Json)
      .access_token as string;
    expect((await call(fake, 'auth.revoke', { test: '1' }, a)).body).toEqual({
      ok: true,
      revoked: true,
    });
    expect((await call(fake, 'auth.test', {}, a)).body.ok).toBe(true);
    expect((await call(fake, 'auth.revoke', {}, a)).body).toEqual({ ok: true, revoked: true });
    expect((await call(fake, 'auth.test', {}, a)).body.error).toBe('token_revoked');
    expect((await call(fake, 'auth.test', {}, b)).body.ok).toBe(true);
    expect(fake.counters.revocations).toBe(1);
    expect(fake.counters.revokedTokens).toEqual([a]);
  });

  it('conversations.list: types need their scopes; public channels all, the rest by membership; cursor paging', async () => {
    const types = 'public_channel,private_channel,mpim,im';
    const ids = async (token: string, extra: Record<string, string> = {}) =>
      (await call(fake, 'conversations.list', { types, ...extra }, token)).body.channels.map(
        (c: Json) => c.id,
      );
    expect(await ids(bot)).toEqual([C.general, C.random, C.projectX, C.leads, C.archive]);
    expect(await ids(alice)).toEqual([C.general, C.random, C.projectX, C.leads, C.dm, C.archive]);
    expect(await ids(alice, { exclude_archived: 'true' })).not.toContain(C.archive);

    const def = await call(fake, 'conversations.list', {}, bot);
    expect(def.body.channels.map((c: Json) => c.id)).toEqual([
      C.general,
      C.random,
      C.projectX,
      C.archive,
    ]);
    const random = def.body.channels[1];
    expect(random).toMatchObject({
      id: C.random,
      name: 'random',
      is_channel: true,
      is_group: false,
      is_im: false,
      is_mpim: false,
      is_private: false,
      is_archived: false,
      is_member: false,
      creator: U.alice,
      purpose: { value: 'Non-work banter.' },
    });
    const dm = (await call(fake, 'conversations.list', { types: 'im' }, alice)).body.channels[0];
    expect(dm).toMatchObject({ id: C.dm, is_im: true, user: U.bob });

    const carol = (fake.issueTokens('carol', { userScopes: ['channels:read'] }).authed_user as Json)
      .access_token as string;
    expect(
      (await call(fake, 'conversations.list', { types: 'public_channel,im' }, carol)).body,
    ).toEqual({ ok: false, error: 'missing_scope', needed: 'im:read', provided: 'channels:read' });

    const seen: string[] = [];
    let cursor = '';
    let pages = 0;
    do {
      const page = await call(fake, 'conversations.list', { types, limit: '2', cursor }, alice);
      seen.push(...page.body.channels.map((c: Json) => c.id));
      cursor = page.body.response_metadata.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(await ids(alice));
    expect((await call(fake, 'conversations.list', { cursor: 'bm9wZQ==' }, bot)).body.error).toBe(
      'invalid_cursor',
    );
  });

  it('conversations.history: parents and broadcasts newest first, paged by cursor; the seeded markup', async () => {
    const want = fake.data
      .messages(C.general)
      .map((m) => m.ts)
      .reverse();
    expect(want).toHaveLength(10);
    const got: Json[] = [];
    let cursor = '';
    do {
      const page = await history({ channel: C.general, limit: '4', cursor });
      expect(page.body.ok).toBe(true);
      expect(page.body.has_more).toBe(page.body.response_metadata.next_cursor !== '');
      got.push(...page.body.messages);
      cursor = page.body.response_metadata.next_cursor;
    } while (cursor);
    expect(got.map((m) => m.ts)).toEqual(want);

    const byText = (re: RegExp) => got.find((m) => re.test(m.text as string))!;
    expect(byText(/^Release 2.4/)).toMatchObject({
      thread_ts: byText(/^Release 2.4/).ts,
      reply_count: 3,
      reply_users: [U.bob, U.carol, U.alice],
    });
    expect(byText(/^All blockers/)).toMatchObject({ subtype: 'thread_broadcast', user: U.alice });
    expect(got.some((m) => m.text === 'Exports are done.')).toBe(false);
    expect(byText(/^Deploy moved/)).toMatchObject({
      text: 'Deploy moved to Thursday &amp; the notes are updated.',
      edited: { user: U.bob },
    });
    expect(byText(/^Daily digest/)).toMatchObject({
      subtype: 'bot_message',
      bot_id: SEED_SLACK.botId,
    });
    expect(byText(/the spec/)).toMatchObject({
      text: 'Hey <@U0ALICE001>, please read <https://example.com/spec|the spec> before planning.',
      reactions: [{ name: 'pdeck', users: [U.alice], count: 1 }],
    });
    expect(byText(/^Q&amp;A/).text).toContain(
      '&lt; 3 &gt; 1. Ping <@U0BOB00002> or ask in <#C0RANDOM02|random>',
    );
    expect(byText(/^Lunch/).text).toContain('\n• ramen\n');
    // Two messages are older than 10 days: outside a 7-day backfill.
    const weekAgo = String((clock - 7 * 86_400_000) / 1000);
    expect((await history({ channel: C.general, oldest: weekAgo })).body.messages).toHaveLength(8);
  });

  it('conversations.history: oldest/latest are exclusive unless inclusive; membership and scope errors', async () => {
    const asc = fake.data.messages(C.general).map((m) => m.ts);
    const range = { channel: C.general, oldest: asc[2], latest: asc[5] };
    const ts = async (args: Record<string, string>) =>
      (await history(args)).body.messages.map((m: Json) => m.ts);
    expect(await ts(range)).toEqual([asc[4], asc[3]]);
    expect(await ts({ ...range, inclusive: 'true' })).toEqual([asc[5], asc[4], asc[3], asc[2]]);
    expect((await history({ channel: C.general, oldest: 'yesterday' })).body.error).toBe(
      'invalid_ts_oldest',
    );

    expect((await history({ channel: C.random })).body.error).toBe('not_in_channel');
    expect((await history({ channel: C.projectX }, alice)).body.ok).toBe(true);
    expect((await history({ channel: C.hr }, alice)).body.error).toBe('channel_not_found');
    expect((await history({ channel: C.hr })).body.error).toBe('channel_not_found');
    expect((await history({ channel: 'C0NOPE' })).body.error).toBe('channel_not_found');
    expect((await history({ channel: C.dm }, alice)).body.messages).toHaveLength(6);
    const carol = (fake.issueTokens('carol', { userScopes: ['channels:read'] }).authed_user as Json)
      .access_token as string;
    expect((await history({ channel: C.general }, carol)).body).toMatchObject({
      error: 'missing_scope',
      needed: 'channels:history',
    });
  });

  it('limited tier: 1 call a minute (429 with Retry-After, per app and workspace), limit default and max 15', async () => {
    for (let i = 0; i < 20; i++) fake.postMessage(C.random, { user: 'carol', text: `filler ${i}` });
    const first = await history({ channel: C.random }, alice);
    expect(first.body.messages).toHaveLength(15);
    expect(first.body.has_more).toBe(true);
    clock += 20_000;
    // Another token of the same app in the same workspace shares the window.
    const second = await call(fake, 'conversations.history', { channel: C.general }, bot);
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('40');
    expect(second.body).toEqual({ ok: false, error: 'ratelimited' });
    const bigger = await history({ channel: C.random, limit: '100' }, alice);
    expect(bigger.body.messages).toHaveLength(15);

    fake.forceRateLimit('users.list', 7);
    const forced = await call(fake, 'users.list', {}, bot);
    expect(forced.status).toBe(429);
    expect(forced.headers.get('retry-after')).toBe('7');
    expect((await call(fake, 'users.list', {}, bot)).status).toBe(200);
    const stats = fake.stats().slack as Json;
    expect(stats.rateLimits.rejected).toEqual({ 'conversations.history': 1, 'users.list': 1 });
    expect(stats.api.calls['conversations.history']).toBeGreaterThan(5);
  });

  it('tier3: limit defaults to 100 and 50 calls a minute pass', async () => {
    const tier3 = new SlackFake({ now, historyTier: 'tier3' });
    await tier3.start();
    try {
      const token = tier3.issueTokens('alice').access_token as string;
      for (let i = 0; i < 120; i++) tier3.postMessage(C.general, { user: 'bob', text: `n${i}` });
      const statuses: number[] = [];
      for (let i = 0; i < 51; i++)
        statuses.push(
          (await call(tier3, 'conversations.history', { channel: C.general, limit: '1' }, token))
            .status,
        );
      expect(statuses.filter((s) => s === 200)).toHaveLength(50);
      expect(statuses[50]).toBe(429);
      clock += 61_000;
      const page = await call(tier3, 'conversations.history', { channel: C.general }, token);
      expect(page.body.messages).toHaveLength(100);
    } finally {
      await tier3.stop();
    }
  });

  it('conversations.replies: the parent then its replies ascending, by parent or reply ts, paged', async () => {
    const parent = fake.data.messages(C.general).find((m) => m.text.startsWith('Release 2.4'))!;
    const thread = await read('conversations.replies', { channel: C.general, ts: parent.ts });
    expect(thread.body.messages.map((m: Json) => m.text)).toEqual([
      'Release 2.4 checklist: reply here with blockers.',
      'Exports are done.',
      'Docs need one more pass.',
      'All blockers cleared, shipping Thursday.',
    ]);
    expect(thread.body.messages[1]).toMatchObject({
      thread_ts: parent.ts,
      parent_user_id: U.alice,
    });
    const reply = thread.body.messages[2].ts as string;
    const viaReply = await read('conversations.replies', { channel: C.general, ts: reply });
    expect(viaReply.body.messages).toEqual(thread.body.messages);

    const p1 = await read('conversations.replies', {
      channel: C.general,
      ts: parent.ts,
      limit: '2',
    });
    expect(p1.body.messages.map((m: Json) => m.text)).toEqual([
      'Release 2.4 checklist: reply here with blockers.',
      'Exports are done.',
    ]);
    expect(p1.body.has_more).toBe(true);
    const p2 = await read('conversations.replies', {
      channel: C.general,
      ts: parent.ts,
      limit: '2',
      cursor: p1.body.response_metadata.next_cursor as string,
    });
    expect(p2.body.messages.map((m: Json) => m.text)).toEqual([
      'Docs need one more pass.',
      'All blockers cleared, shipping Thursday.',
    ]);
    expect(p2.body).toMatchObject({ has_more: false, response_metadata: { next_cursor: '' } });
    expect(
      (await read('conversations.replies', { channel: C.general, ts: '1.000001' })).body.error,
    ).toBe('thread_not_found');
    expect(
      (await read('conversations.replies', { channel: C.random, ts: parent.ts })).body.error,
    ).toBe('not_in_channel');
  });

  it('users.list answers every member with profile; needs users:read', async () => {
    const list = await call(fake, 'users.list', {}, bot);
    expect(list.body.members.map((m: Json) => m.id)).toEqual([U.alice, U.bob, U.carol, U.bot]);
    expect(list.body.members[0]).toMatchObject({
      id: U.alice,
      team_id: 'T0PDECKSBX',
      name: 'alice',
      real_name: 'Alice Archer',
      deleted: false,
      is_bot: false,
      profile: { display_name: 'alice', real_name: 'Alice Archer' },
    });
    expect(list.body.members[3].is_bot).toBe(true);
    const page = await call(fake, 'users.list', { limit: '3' }, bot);
    expect(page.body.members).toHaveLength(3);
    const rest = await call(
      fake,
      'users.list',
      { limit: '3', cursor: page.body.response_metadata.next_cursor as string },
      bot,
    );
    expect(rest.body.members.map((m: Json) => m.id)).toEqual([U.bot]);
    const carol = (fake.issueTokens('carol', { userScopes: ['channels:read'] }).authed_user as Json)
      .access_token as string;
    expect((await call(fake, 'users.list', {}, carol)).body).toEqual({
      ok: false,
      error: 'missing_scope',
      needed: 'users:read',
      provided: 'channels:read',
    });
  });
});

describe('Events API', () => {
  let fake: SlackFake;
  const nowSec = () => Math.floor(clock / 1000);
  beforeAll(async () => {
    fake = new SlackFake({ now, ackTimeoutMs: 300, retryDelaysMs: [10, 20, 30] });
    await fake.start();
  });
  afterAll(() => fake.stop());

  it("signSlackRequest matches Slack's published example", () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(signSlackRequest('8f742231b10e8888abcd99yyyzzz85a5', 1531420618, body)).toBe(
      'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    );
  });

  it('url_verification: the URL is saved only when the challenge comes back', async () => {
    const rx = await receiver();
    const wrong = createServer((_req, res) => res.writeHead(200).end('not the challenge'));
    await new Promise<void>((r) => wrong.listen(0, '127.0.0.1', r));
    const jsonEcho = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const { challenge } = JSON.parse(raw) as Json;
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ challenge }));
      });
    });
    await new Promise<void>((r) => jsonEcho.listen(0, '127.0.0.1', r));
    try {
      const wrongUrl = `http://127.0.0.1:${(wrong.address() as AddressInfo).port}/x`;
      expect(await fake.setRequestUrl(wrongUrl)).toEqual({ ok: false, status: 200 });
      expect(fake.events.requestUrl(APP.appId)).toBeUndefined();
      const jsonUrl = `http://127.0.0.1:${(jsonEcho.address() as AddressInfo).port}/x`;
      expect(await fake.setRequestUrl(jsonUrl)).toEqual({ ok: true, status: 200 });

      const res = await fetch(`${fake.url}/__admin/request-url`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: rx.url }),
      });
      expect(await res.json()).toEqual({ ok: true, status: 200 });
      expect(fake.events.requestUrl(APP.appId)).toBe(rx.url);
      const v = rx.posts[0];
      expect(JSON.parse(v.body)).toEqual({
        token: expect.any(String),
        challenge: expect.any(String),
        type: 'url_verification',
      });
      expect(v.headers['content-type']).toBe('application/json');
      expect(verifies(v, APP.signingSecret, nowSec())).toBe(true);
    } finally {
      await rx.close();
      wrong.close();
      jsonEcho.close();
    }
  });

  it('events go only to installed apps; the envelope is signed over the exact bytes, with / escaped', async () => {
    const rx = await receiver();
    try {
      await fake.setRequestUrl(rx.url);
      fake.postMessage(C.general, { user: 'bob', text: 'not installed yet' });
      await fake.whenIdle();
      expect(rx.events()).toHaveLength(0);

      fake.issueTokens('alice');
      const m = fake.postMessage(C.general, { user: 'alice', text: 'See https://example.com/a/b' });
      await fake.whenIdle();
      const [delivery] = rx.events();
      expect(delivery.body).toContain('https:\\/\\/example.com\\/a\\/b');
      expect(verifies(delivery, APP.signingSecret, nowSec())).toBe(true);
      // A verifier that re-serializes the parsed body computes another signature.
      const reserialized = JSON.stringify(JSON.parse(delivery.body));
      expect(reserialized).not.toBe(delivery.body);
      expect(verifies({ ...delivery, body: reserialized }, APP.signingSecret, nowSec())).toBe(
        false,
      );
      expect(verifies(delivery, 'another-secret', nowSec())).toBe(false);

      const env = JSON.parse(delivery.body) as Json;
      expect(env).toEqual({
        token: expect.any(String),
        team_id: 'T0PDECKSBX',
        context_team_id: 'T0PDECKSBX',
        context_enterprise_id: null,
        api_app_id: APP.appId,
        event: {
          type: 'message',
          channel: C.general,
          user: U.alice,
          text: 'See https://example.com/a/b',
          ts: m.ts,
          event_ts: m.ts,
          channel_type: 'channel',
        },
        type: 'event_callback',
        event_id: expect.stringMatching(/^Ev[A-Z0-9]{10}$/),
        event_time: nowSec(),
        authorizations: [
          {
            enterprise_id: null,
            team_id: 'T0PDECKSBX',
            user_id: U.bot,
            is_bot: true,
            is_enterprise_install: false,
          },
        ],
        is_ext_shared_channel: false,
        event_context: expect.stringMatching(/^4-/),
      });
      expect(m.ts).toMatch(/^\d{10}\.\d{6}$/);
      const sent = fake.events.sent().find((s) => s.eventId === env.event_id)!;
      expect(sent).toMatchObject({ type: 'message', status: 200, attempt: 1, body: delivery.body });
    } finally {
      await rx.close();
    }
  });

  it('retries after a 500 and after a slow answer with X-Slack-Retry-Num/Reason; x-slack-no-retry stops them', async () => {
    const rx = await receiver([
      { status: 500 },
      { delayMs: 600 },
      {},
      { status: 503, headers: { 'x-slack-no-retry': '1' } },
    ]);
    try {
      await fake.setRequestUrl(rx.url);
      fake.postMessage(C.general, { user: 'bob', text: 'retry me' });
      await fake.whenIdle();
      fake.postMessage(C.general, { user: 'bob', text: 'no retry' });
      await fake.whenIdle();
      const posts = rx.events();
      const texts = posts.map((p) => (JSON.parse(p.body) as Json).event.text);
      // 500 -> retry 1 (slow: timed out) -> retry 2 (200); then one attempt answered no-retry.
      expect(texts).toEqual(['retry me', 'retry me', 'retry me', 'no retry']);
      expect(posts.map((p) => p.headers['x-slack-retry-num'])).toEqual([
        undefined,
        '1',
        '2',
        undefined,
      ]);
      expect(posts.map((p) => p.headers['x-slack-retry-reason'])).toEqual([
        undefined,
        'http_error',
        'http_timeout',
        undefined,
      ]);
      expect(new Set(posts.slice(0, 3).map((p) => p.body)).size).toBe(1);
      for (const p of posts) expect(verifies(p, APP.signingSecret, nowSec())).toBe(true);
      const attempts = fake.events
        .sent()
        .filter((s) => s.type === 'message')
        .slice(-4);
      expect(attempts.map((s) => [s.attempt, s.status, s.failure])).toEqual([
        [1, 500, undefined],
        [2, 0, 'http_timeout'],
        [3, 200, undefined],
        [1, 503, undefined],
      ]);
    } finally {
      await rx.close();
    }
  });

  it('replay re-sends the exact body freshly signed; sendSigned posts forged and stale requests', async () => {
    // The receiver checks signatures like a real one and answers 401 when they fail.
    const checked: number[] = [];
    const server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const parsed = JSON.parse(raw) as Json;
        if (parsed.type === 'url_verification') return res.writeHead(200).end(parsed.challenge);
        const ok = verifies({ headers: req.headers, body: raw }, APP.signingSecret, nowSec());
        checked.push(Number(req.headers['x-slack-retry-num'] ?? 0));
        res.writeHead(ok ? 200 : 401).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      await fake.setRequestUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/ev`);
      const m = fake.postMessage(C.general, { user: 'alice', text: 'replay me' });
      await fake.whenIdle();
      const original = fake.events.sent().at(-1)!;
      clock += 120_000;
      expect(
        await fake.events.replay(original.eventId, { retryNum: 2, reason: 'http_timeout' }),
      ).toBe(200);
      const replayed = fake.events.sent().at(-1)!;
      expect(replayed.body).toBe(original.body);
      expect(replayed.headers['x-slack-request-timestamp']).toBe(String(nowSec()));
      expect(replayed.headers['x-slack-signature']).not.toBe(original.headers['x-slack-signature']);
      expect(replayed).toMatchObject({ eventId: original.eventId, attempt: 3 });
      expect(checked.at(-1)).toBe(2);

      const body = {
        type: 'event_callback',
        event_id: 'EvFORGED001',
        event: { type: 'message', ts: m.ts },
      };
      expect(await fake.events.sendSigned(body)).toBe(200);
      expect(await fake.events.sendSigned(body, { secret: 'not-the-signing-secret' })).toBe(401);
      expect(await fake.events.sendSigned(body, { timestamp: nowSec() - 301 })).toBe(401);
      expect(await fake.events.sendSigned(body, { timestamp: nowSec() + 301 })).toBe(401);
      expect(
        await fake.events.sendSigned(body, { headers: { 'x-slack-signature': 'v0=deadbeef' } }),
      ).toBe(401);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('edits, deletions, reactions, token revocations, uninstall and deactivation emit their events', async () => {
    const rx = await receiver();
    try {
      await fake.setRequestUrl(rx.url);
      const t = fake.issueTokens('bob');
      const bobUser = (t.authed_user as Json).access_token as string;
      const m = fake.postMessage(C.projectX, { user: 'bob', text: 'first' });
      fake.editMessage(C.projectX, m.ts, 'second');
      fake.addReaction(C.projectX, m.ts, 'eyes', 'alice');
      fake.removeReaction(C.projectX, m.ts, 'eyes', 'alice');
      fake.addReaction(C.projectX, m.ts, 'tada', 'bob');
      fake.deleteMessage(C.projectX, m.ts);
      await fake.whenIdle();
      const events = rx.events().map((p) => (JSON.parse(p.body) as Json).event as Json);
      const [posted, changed, added, removed, tada, deleted] = events;
      expect(posted).toMatchObject({ type: 'message', channel: C.projectX, ts: m.ts });
      expect(changed).toMatchObject({
        type: 'message',
        subtype: 'message_changed',
        hidden: true,
        channel: C.projectX,
        channel_type: 'channel',
        message: { ts: m.ts, text: 'second', user: U.bob, edited: { user: U.bob, ts: changed.ts } },
        previous_message: { ts: m.ts, text: 'first' },
      });
      expect(changed.ts > m.ts).toBe(true);
      expect(added).toEqual({
        type: 'reaction_added',
        user: U.alice,
        reaction: 'eyes',
        item: { type: 'message', channel: C.projectX, ts: m.ts },
        item_user: U.bob,
        event_ts: expect.any(String),
      });
      expect(removed.type).toBe('reaction_removed');
      expect(tada.type).toBe('reaction_added');
      expect(deleted).toMatchObject({
        subtype: 'message_deleted',
        hidden: true,
        deleted_ts: m.ts,
        previous_message: { text: 'second', reactions: [{ name: 'tada', count: 1 }] },
      });
      expect(deleted.ts > changed.ts && deleted.ts === deleted.event_ts).toBe(true);
      expect(fake.data.message(C.projectX, m.ts)).toBeUndefined();

      expect(fake.revokeTokens('T0PDECKSBX', { userIds: [U.bob] })).toEqual({
        oauth: [U.bob],
        bot: [],
      });
      expect((await call(fake, 'auth.test', {}, bobUser)).body.error).toBe('token_revoked');
      expect((await call(fake, 'auth.test', {}, t.access_token as string)).body.ok).toBe(true);

      const alice = fake.issueTokens('alice', { userScopes: ['users:read'] });
      fake.deactivate(U.alice);
      expect(
        (await call(fake, 'auth.test', {}, (alice.authed_user as Json).access_token as string)).body
          .error,
      ).toBe('account_inactive');

      expect(fake.uninstall('T0PDECKSBX').length).toBeGreaterThan(0);
      await fake.whenIdle();
      expect((await call(fake, 'auth.test', {}, t.access_token as string)).body.error).toBe(
        'token_revoked',
      );
      const tail = rx
        .events()
        .map((p) => (JSON.parse(p.body) as Json).event as Json)
        .slice(-2);
      expect(tail[0]).toEqual({
        type: 'tokens_revoked',
        tokens: { oauth: [U.bob], bot: [] },
        event_ts: expect.any(String),
      });
      expect(tail[1]).toMatchObject({ type: 'app_uninstalled' });
      // Nothing is installed any more: no more events.
      fake.postMessage(C.general, { user: 'bob', text: 'after uninstall' });
      await fake.whenIdle();
      expect(rx.events()).toHaveLength(events.length + 2);
    } finally {
      await rx.close();
    }
  });
});
