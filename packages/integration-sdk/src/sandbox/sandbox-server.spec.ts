import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleJson, asciiJson } from './json-assembly.js';
import { OAuth2Fake } from './oauth2-fake.js';
import { PageCache } from './page-cache.js';
import { json } from './router.js';
import { SandboxServer } from './sandbox-server.js';

let server: SandboxServer;
let oauth: OAuth2Fake;
const client = { clientId: 'cid', clientSecret: 'secret', name: 'Test client' };

beforeAll(async () => {
  server = new SandboxServer();
  server.route('GET', '/things/:id', ({ params, query }) =>
    json(200, { id: params.id, q: query.get('q') }),
  );
  server.route('POST', '/echo', ({ body, bodyError }) =>
    json(200, { body, bodyError: bodyError ?? null }),
  );
  // A provider that rotates refresh tokens and always issues one (Jira-like), to exercise options.
  oauth = new OAuth2Fake(server, {
    clients: [client],
    accounts: [{ email: 'a@example.com', name: 'A' }],
    paths: { authorize: '/authorize', token: '/oauth/token', revoke: '/oauth/revoke' },
    rotateRefreshTokens: true,
    refreshTokenPolicy: 'always',
    maxRefreshTokensPerGrant: 2,
  });
  await server.start();
});
afterAll(() => server.stop());

const post = (path: string, body: string, type: string, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    body,
    headers: { 'content-type': type, ...headers },
  });

describe('SandboxServer', () => {
  it('routes on raw segments and decodes params (an encoded # stays inside one segment)', async () => {
    const res = await fetch(`${server.url}/things/en.usa%23holiday%40group?q=x`);
    expect(await res.json()).toEqual({ id: 'en.usa#holiday@group', q: 'x' });
    expect((await fetch(`${server.url}/nothing`)).status).toBe(404);
    expect((await fetch(`${server.url}/things/1`, { method: 'DELETE' })).status).toBe(405);
  });

  it('parses JSON and form bodies, and flags broken JSON instead of throwing', async () => {
    expect(await (await post('/echo', '{"a":1}', 'application/json')).json()).toEqual({
      body: { a: 1 },
      bodyError: null,
    });
    expect(
      await (await post('/echo', 'a=1&b=x+y', 'application/x-www-form-urlencoded')).json(),
    ).toEqual({
      body: { a: '1', b: 'x y' },
      bodyError: null,
    });
    expect(await (await post('/echo', '{oops', 'application/json')).json()).toEqual({
      bodyError: 'invalid_json',
    });
  });

  it('serves faults in order by path prefix or pattern, a number of times, never on admin paths', async () => {
    server.addFault({ status: 503, path: '/things/', times: 2, body: { error: 'busy' } });
    server.addFault({ status: 418, path: /^\/echo$/ });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${server.url}/things/1`)).status);
    expect(statuses).toEqual([503, 503, 200]);
    expect((await fetch(`${server.url}/__admin/stats`)).status).toBe(200);
    expect((await post('/echo', '{}', 'application/json')).status).toBe(418);
    server.addFault({ status: 0, path: '/things/' });
    await expect(fetch(`${server.url}/things/1`)).rejects.toThrow();
    const res = await post(
      '/__admin/faults',
      JSON.stringify({ status: 500, pathRegex: '^/things/' }),
      'application/json',
    );
    expect(res.status).toBe(201);
    expect((await fetch(`${server.url}/things/2`)).status).toBe(500);
  });

  it('logs requests with per-route counters', async () => {
    const before = server.log.count('GET /things/:id');
    await fetch(`${server.url}/things/9`);
    expect(server.log.count('GET /things/:id')).toBe(before + 1);
    const { requests } = (await (await fetch(`${server.url}/__admin/requests?limit=2`)).json()) as {
      requests: Array<Record<string, unknown>>;
    };
    expect(requests.at(-1)).toMatchObject({
      method: 'GET',
      path: '/things/9',
      route: 'GET /things/:id',
      status: 200,
    });
    expect(requests.at(-1)!.at).toMatch(/Z$/);
  });
});

describe('OAuth2Fake options', () => {
  async function code(): Promise<string> {
    const url = `${server.url}/authorize?client_id=cid&redirect_uri=${encodeURIComponent('http://127.0.0.1/cb')}&response_type=code&scope=read&auto=allow`;
    const res = await fetch(url, { redirect: 'manual' });
    return new URL(res.headers.get('location')!).searchParams.get('code')!;
  }
  const basic = `Basic ${Buffer.from('cid:secret').toString('base64')}`;
  const token = (fields: Record<string, string>) =>
    post(
      '/oauth/token',
      new URLSearchParams(fields).toString(),
      'application/x-www-form-urlencoded',
      { authorization: basic },
    );

  it('authenticates with HTTP Basic, rotates refresh tokens and caps them per grant', async () => {
    const first = (await (
      await token({
        grant_type: 'authorization_code',
        code: await code(),
        redirect_uri: 'http://127.0.0.1/cb',
      })
    ).json()) as Record<string, string>;
    expect(first.refresh_token).toBeDefined();
    const rotated = (await (
      await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token })
    ).json()) as Record<string, string>;
    expect(rotated.refresh_token).not.toBe(first.refresh_token);
    const reused = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(((await reused.json()) as Record<string, string>).error).toBe('invalid_grant');
    // Two more code exchanges: the cap of 2 drops the oldest live refresh token.
    await token({
      grant_type: 'authorization_code',
      code: await code(),
      redirect_uri: 'http://127.0.0.1/cb',
    });
    await token({
      grant_type: 'authorization_code',
      code: await code(),
      redirect_uri: 'http://127.0.0.1/cb',
    });
    expect(oauth.introspect(rotated.refresh_token).active).toBe(false);
  });
});

describe('PageCache and JSON assembly', () => {
  it('evicts least recently used entries beyond the byte budget', () => {
    const cache = new PageCache(10);
    cache.set('a', Buffer.alloc(4));
    cache.set('b', Buffer.alloc(4));
    cache.get('a');
    cache.set('c', Buffer.alloc(4));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.stats()).toMatchObject({ entries: 2, bytes: 8 });
  });

  it('assembles ASCII strings and UTF-8 buffers into valid JSON', () => {
    const items = [
      asciiJson({ s: 'Flight FRA → JFK' }),
      Buffer.from(JSON.stringify({ s: 'Café' })),
    ];
    const body = assembleJson('{"items":[', items, '],"t":"ü"}');
    expect(JSON.parse(body.toString('utf8'))).toEqual({
      items: [{ s: 'Flight FRA → JFK' }, { s: 'Café' }],
      t: 'ü',
    });
    expect(asciiJson({ s: '→' })).toBe('{"s":"\\u2192"}');
  });
});
