import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../src/auth/oauth1/oauth1-signer.js';
import { SANDBOX_TRELLO_APP, TrelloFake } from './trello.fake.js';
import { trelloWebhookSignature } from './webhooks.js';

const APP = SANDBOX_TRELLO_APP;
let fake: TrelloFake;
let token: string;
const auth = (t: string, key = APP.key) => `OAuth oauth_consumer_key="${key}", oauth_token="${t}"`;
const api = (path: string, init: RequestInit & { token?: string } = {}) =>
  fetch(`${fake.url}/1${path}`, {
    ...init,
    headers: {
      authorization: auth(init.token ?? token),
      ...(init.headers as Record<string, string>),
    },
  });

/** A webhook receiver: HEAD answers `headStatus`, POSTs are recorded with their raw bytes. */
async function receiver(headStatus = 200) {
  const posts: Array<{ url: string; headers: Record<string, unknown>; body: Buffer }> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST')
        posts.push({ url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(req.method === 'HEAD' ? headStatus : 200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/trello?conn=7`;
  return { url, posts, close: () => new Promise<void>((r) => server.close(() => r())) };
}

beforeAll(async () => {
  fake = new TrelloFake({ webhooks: { baseDelayMs: 10 } });
  await fake.start();
  token = fake.issueToken('alice').token;
});
afterAll(() => fake.stop());

describe('OAuth 1.0a', () => {
  const signed = (path: string, opts: Partial<Parameters<typeof signRequest>[0]> = {}) => {
    const url = `${fake.url}${path}`;
    const { authorization } = signRequest({
      method: 'POST',
      url,
      consumerKey: APP.key,
      consumerSecret: APP.secret,
      ...opts,
    });
    return fetch(url, { method: 'POST', headers: { authorization } });
  };

  it('runs the three legs with verified signatures; the access token works on the API', async () => {
    const callback = 'http://127.0.0.1:1/oauth/trello/callback?state=abc';
    const step1 = await signed('/1/OAuthGetRequestToken', {
      extraOAuthParams: { oauth_callback: callback },
    });
    expect(step1.status).toBe(200);
    const rt = new URLSearchParams(await step1.text());
    expect(rt.get('oauth_callback_confirmed')).toBe('true');

    const page = await fetch(
      `${fake.url}/1/OAuthAuthorizeToken?oauth_token=${rt.get('oauth_token')}&name=PDeck&scope=read&expiration=never`,
    );
    expect(await page.text()).toContain('value="allow"');
    const step2 = await fetch(
      `${fake.url}/1/OAuthAuthorizeToken?oauth_token=${rt.get('oauth_token')}&scope=read&expiration=never&auto=allow&account=bob`,
      { redirect: 'manual' },
    );
    expect(step2.status).toBe(302);
    const back = new URL(step2.headers.get('location')!);
    expect(back.searchParams.get('state')).toBe('abc');
    expect(back.searchParams.get('oauth_token')).toBe(rt.get('oauth_token'));
    const verifier = back.searchParams.get('oauth_verifier')!;

    const exchange = () =>
      signed('/1/OAuthGetAccessToken', {
        token: rt.get('oauth_token')!,
        tokenSecret: rt.get('oauth_token_secret')!,
        extraOAuthParams: { oauth_verifier: verifier },
      });
    const step3 = await exchange();
    expect(step3.status).toBe(200);
    const access = new URLSearchParams(await step3.text());
    expect(access.get('oauth_token_secret')).toMatch(/^[0-9a-f]{64}$/);
    const me = await api('/members/me?fields=id,username,fullName', {
      token: access.get('oauth_token')!,
    });
    expect(await me.json()).toEqual({
      id: fake.seed!.members.bob,
      username: 'bob',
      fullName: 'Bob Builder',
    });
    expect((await exchange()).status).toBe(401); // the verifier is single use

    // Leak checks get every secret of the dance, spent ones included.
    fake.revokeToken(access.get('oauth_token')!);
    expect(fake.issuedSecrets()).toEqual(
      expect.arrayContaining([
        APP.secret,
        rt.get('oauth_token_secret'),
        verifier,
        access.get('oauth_token'),
        access.get('oauth_token_secret'),
      ]),
    );
    expect(fake.issuedSecrets()).not.toContain(APP.key);
  });

  it('refuses a request signed with the wrong consumer secret, and a missing callback', async () => {
    const bad = await signed('/1/OAuthGetRequestToken', {
      consumerSecret: 'not-the-secret',
      extraOAuthParams: { oauth_callback: 'http://127.0.0.1:1/cb' },
    });
    expect(bad.status).toBe(401);
    expect(await bad.text()).toBe('invalid signature');
    expect((await signed('/1/OAuthGetRequestToken')).status).toBe(400);
  });

  it('redirects a denial back without a verifier', async () => {
    const rt = new URLSearchParams(
      await (
        await signed('/1/OAuthGetRequestToken', {
          extraOAuthParams: { oauth_callback: 'http://127.0.0.1:1/cb' },
        })
      ).text(),
    );
    const res = await fetch(
      `${fake.url}/1/OAuthAuthorizeToken?oauth_token=${rt.get('oauth_token')}&auto=deny`,
      { redirect: 'manual' },
    );
    const back = new URL(res.headers.get('location')!);
    expect(back.searchParams.has('oauth_token')).toBe(true);
    expect(back.searchParams.has('oauth_verifier')).toBe(false);
  });
});

describe('API', () => {
  it('needs the OAuth header: query credentials and unknown tokens get 401', async () => {
    expect((await api('/members/me/boards?filter=open&fields=id,name,closed')).status).toBe(200);
    const query = await fetch(`${fake.url}/1/members/me?key=${APP.key}&token=${token}`);
    expect(query.status).toBe(401);
    const unknown = await api('/members/me', { token: 'f'.repeat(64) });
    expect([unknown.status, await unknown.text()]).toEqual([401, 'invalid token']);
  });

  it('lists open boards, all lists, members and open cards only', async () => {
    const boards = (await (
      await api('/members/me/boards?filter=open&fields=id,name,closed')
    ).json()) as Array<Record<string, unknown>>;
    expect(boards.map((b) => b.name)).toEqual(['Product', 'Personal']);
    expect(Object.keys(boards[0]).sort()).toEqual(['closed', 'id', 'name']);
    const product = fake.seed!.boards.product;
    const lists = (await (await api(`/boards/${product}/lists/all`)).json()) as Array<{
      name: string;
    }>;
    expect(lists.map((l) => l.name)).toEqual(['To Do', 'Doing', 'Done']);
    const members = await (
      await api(`/boards/${product}/members?fields=id,username,fullName`)
    ).json();
    expect(members).toHaveLength(2);
    const open = () =>
      api(`/boards/${product}/cards/open`).then(
        (r) => r.json() as Promise<Array<Record<string, unknown>>>,
      );
    const before = await open();
    expect(before).toHaveLength(8);
    expect(before.some((c) => c.id === fake.seed!.cards.archived)).toBe(false);
    expect(before.find((c) => c.dueComplete)).toMatchObject({
      labels: [{ name: 'Bug', color: 'red' }],
    });
    fake.archiveCard(fake.seed!.cards.metrics);
    expect((await open()).map((c) => c.id)).not.toContain(fake.seed!.cards.metrics);
  });

  it('returns actions newest first, strictly after `since`, paged with `before`', async () => {
    const board = fake.seed!.boards.personal;
    const [newest] = (await (await api(`/boards/${board}/actions?limit=1`)).json()) as Array<{
      id: string;
    }>;
    const card = fake.createCard(board, { name: 'Call mum' });
    fake.updateCard(card.id, { name: 'Call mum back', due: '2030-01-01T10:00:00.000Z' });
    const since = (await (
      await api(`/boards/${board}/actions?since=${newest.id}&limit=1000`)
    ).json()) as Array<Record<string, any>>;
    expect(since.map((a) => a.type)).toEqual(['updateCard', 'updateCard', 'createCard']);
    expect(since[0].data.old).toEqual({ due: null });
    expect(since[0].id > since[1].id && since[1].id > since[2].id).toBe(true);
    expect(since[0].date >= fake.data.card(card.id).dateLastActivity).toBe(true);
    expect(parseInt(since[0].id.slice(0, 8), 16)).toBe(
      Math.floor(Date.parse(since[0].date) / 1000),
    );
    const older = (await (
      await api(`/boards/${board}/actions?before=${since[2].id}&limit=2`)
    ).json()) as Array<{ id: string }>;
    expect(older[0].id).toBe(newest.id);
  });
});

describe('webhooks', () => {
  it('probes the callback with HEAD and refuses anything but 200', async () => {
    const dead = await receiver(404);
    const res = await api('/webhooks', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ callbackURL: dead.url, idModel: fake.seed!.boards.product }),
    });
    expect(res.status).toBe(400);
    await dead.close();
  });

  it('delivers a signed action for every change; revoking the token ends it all', async () => {
    const hook = await receiver();
    const product = fake.seed!.boards.product;
    const created = await api('/webhooks', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ callbackURL: hook.url, idModel: product, description: 'test' }),
    });
    const body = (await created.json()) as { id: string; active: boolean };
    expect(body).toMatchObject({ idModel: product, callbackURL: hook.url, active: true });
    fake.updateCard(fake.seed!.cards.cafe, { idList: fake.seed!.lists.doing });
    await fake.whenIdle();
    expect(hook.posts).toHaveLength(1);
    const post = hook.posts[0];
    expect(post.headers['x-trello-webhook']).toBe(
      trelloWebhookSignature(APP.secret, post.body, hook.url),
    );
    const payload = JSON.parse(post.body.toString('utf8'));
    expect(payload.model).toMatchObject({ id: product, name: 'Product' });
    expect(payload.action.data).toMatchObject({
      card: { name: 'Café menu → review' },
      listAfter: { name: 'Doing' },
    });
    const hooks = await api(`/tokens/${token}/webhooks`);
    expect(((await hooks.json()) as unknown[]).length).toBe(1);

    expect((await api(`/tokens/${token}`, { method: 'DELETE' })).status).toBe(200);
    expect((await api('/members/me')).status).toBe(401);
    fake.deleteCard(fake.seed!.cards.retro);
    await fake.whenIdle();
    expect(hook.posts).toHaveLength(1);
    await hook.close();
  });
});

describe('rate limits', () => {
  it('answers 429 with the window that was exceeded, per token then per key', async () => {
    const limited = new TrelloFake({ rateLimits: { perToken: 3, perKey: 4, windowMs: 60_000 } });
    await limited.start();
    const call = (t: string) =>
      fetch(`${limited.url}/1/members/me`, { headers: { authorization: auth(t) } });
    const [a, b] = [limited.issueToken('alice').token, limited.issueToken('bob').token];
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(a)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await call(b)).status).toBe(200);
    const keyLimited = await call(b);
    expect([keyLimited.status, await keyLimited.json()]).toEqual([
      429,
      { error: 'API_KEY_LIMIT_EXCEEDED', message: 'Rate limit exceeded' },
    ]);
    await limited.stop();
  });

  it('rateLimitNext forces 429s with the chosen code and counts them', async () => {
    fake.rateLimitNext(1, 'API_KEY_LIMIT_EXCEEDED');
    const t = fake.issueToken('alice').token;
    const res = await api('/members/me', { token: t });
    expect(res.status).toBe(429);
    expect(((await res.json()) as { error: string }).error).toBe('API_KEY_LIMIT_EXCEEDED');
    expect((await api('/members/me', { token: t })).status).toBe(200);
    expect(fake.stats()).toMatchObject({ trello: { rateLimits: { rejected: { forced: 1 } } } });
  });
});
