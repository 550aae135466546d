import { createHmac } from 'node:crypto';

/**
 * Tables of bad requests for the security suite, each with the exact status the service answers
 * today. Which refusal comes first is deterministic: Node refuses an oversized request line (431)
 * before the app sees it; the body parsers refuse a bad encoding (400, 415) and an oversized body
 * (413) before routing; then an unknown or disabled provider is a 404, and an enabled one
 * refuses a delivery without valid proof of origin (401) before reading its content.
 */
export interface Attack {
  label: string;
  path: string;
  init: RequestInit;
  /** The status the service must answer. */
  expect: number;
}

export const MB = 1024 * 1024;
export const json = { 'content-type': 'application/json' };
/** A JSON document just over the 1 MB body limit. */
export const oversized = `{"pad":"${'x'.repeat(MB + 16)}"}`;
/** `{"a":"<0xff 0xfe>"}`: not UTF-8. */
export const invalidUtf8 = Buffer.from([
  0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d,
]);
/** 20k nested arrays: parses, but any recursive walk of it would blow the stack. */
export const deep = (depth = 20_000) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
/** A query string no parser should choke on: bad escapes, deep brackets, prototype keys. */
const garbageQuery =
  '?x=%ZZ&y=%ff%fe&a[b][c][d][e][f][g]=1&__proto__[polluted]=1&constructor[prototype][p]=1' +
  `&state[$ne]=1&q=${'z'.repeat(4_000)}&&&=&%00=%00`;
/** A request line over Node's 16 KB header limit. */
const longQuery = `?long=${'a'.repeat(20_000)}`;

const PROVIDERS = ['google-calendar', 'trello', 'jira', 'slack', 'no-such-provider'];
const ENABLED = new Set(['google-calendar', 'trello']);

/** Bad deliveries to POST /v1/webhooks/:provider, unauthenticated: none may be stored. */
export function webhookAttacks(): Attack[] {
  const attacks: Attack[] = [];
  for (const p of PROVIDERS) {
    const path = `/v1/webhooks/${p}`;
    const on = ENABLED.has(p);
    // An enabled provider checks the proof of origin first; none of these requests has a valid one.
    const refused = on ? 401 : 404;
    const post = (label: string, init: RequestInit, expect: Attack['expect'], suffix = '') =>
      attacks.push({
        label: `${p}: ${label}`,
        path: path + suffix,
        init: { method: 'POST', ...init },
        expect,
      });
    post('oversized JSON', { headers: json, body: oversized }, 413);
    post(
      'oversized form',
      {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `a=${'x'.repeat(MB + 16)}`,
      },
      413,
    );
    post(
      'oversized text',
      { headers: { 'content-type': 'text/plain' }, body: oversized },
      on ? 413 : 404,
    );
    post(
      'oversized octets',
      { headers: { 'content-type': 'application/octet-stream' }, body: oversized },
      on ? 413 : 404,
    );
    post('malformed JSON', { headers: json, body: '{"action":{"id":' }, refused);
    post('JSON scalar', { headers: json, body: '"just a string"' }, refused);
    post('XML', { headers: { 'content-type': 'application/xml' }, body: '<a><b/></a>' }, refused);
    post(
      'multipart garbage',
      { headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x\r\nbroken' },
      refused,
    );
    post('empty JSON body', { headers: json, body: '' }, refused);
    post('no body, no type', {}, refused);
    post('invalid UTF-8', { headers: json, body: invalidUtf8 }, refused);
    post(
      'unsupported charset',
      { headers: { 'content-type': 'application/json; charset=utf-7' }, body: '{}' },
      refused,
    );
    post(
      'bad gzip',
      { headers: { ...json, 'content-encoding': 'gzip' }, body: 'not gzip at all' },
      400,
    );
    post(
      'unknown encoding',
      { headers: { ...json, 'content-encoding': 'x-custom' }, body: '{}' },
      415,
    );
    post('20k-deep JSON', { headers: json, body: deep() }, refused);
    post('garbage query', { headers: json, body: '{}' }, refused, garbageQuery);
    post('20 KB URL', { headers: json, body: '{}' }, 431, longQuery);
    post(
      'forged Trello signature',
      {
        headers: { ...json, 'x-trello-webhook': 'AAAA' },
        body: '{"action":{"id":"a1"},"model":{"id":"b1"}}',
      },
      refused,
    );
    post(
      'huge signature header',
      { headers: { ...json, 'x-trello-webhook': 's'.repeat(10_000) }, body: '{}' },
      refused,
    );
  }
  attacks.push({
    label: 'invalid UTF-8 in the provider segment',
    path: '/v1/webhooks/%ff%fe',
    init: { method: 'POST', headers: json, body: '{}' },
    expect: 400,
  });
  attacks.push({
    label: '8 KB provider segment',
    path: `/v1/webhooks/${'p'.repeat(8_000)}`,
    init: { method: 'POST', headers: json, body: '{}' },
    expect: 404,
  });
  attacks.push({
    label: 'HEAD probe on a provider without one',
    path: '/v1/webhooks/google-calendar',
    init: { method: 'HEAD' },
    expect: 404,
  });
  return attacks;
}

/**
 * Deliveries signed with the Trello app secret for our exact callback URL (so they pass the
 * signature check) whose content is unusable: each must be a 400 and nothing stored, except a
 * body naming a board none of our subscriptions watches: 410, so Trello deletes that webhook.
 */
export function signedTrelloAttacks(callbackUrl: string, appSecret: string): Attack[] {
  const sign = (body: Buffer) =>
    createHmac('sha1', appSecret)
      .update(Buffer.concat([body, Buffer.from(callbackUrl)]))
      .digest('base64');
  const bodies: Record<string, Buffer> = {
    'truncated JSON': Buffer.from('{"action":{"id":'),
    'empty body': Buffer.alloc(0),
    'JSON null': Buffer.from('null'),
    'JSON array': Buffer.from('[]'),
    'no action': Buffer.from('{"model":{"id":"5f0000000000000000000001"}}'),
    'escaped NUL in the action id': Buffer.from('{"action":{"id":"a\\u0000b"}}'),
    'path in the action id': Buffer.from('{"action":{"id":"../../etc/passwd"}}'),
    'object as action id': Buffer.from('{"action":{"id":{"$ne":1}}}'),
    '10 KB action id': Buffer.from(`{"action":{"id":"${'a'.repeat(10_000)}"}}`),
    'invalid UTF-8': invalidUtf8,
    'raw NUL byte': Buffer.from('{"action":{"id":"abc\u0000"}}'),
    '20k-deep JSON': Buffer.from(deep()),
  };
  return Object.entries(bodies).map(([label, body]) => ({
    label: `trello signed: ${label}`,
    path: '/v1/webhooks/trello',
    init: { method: 'POST', headers: { ...json, 'x-trello-webhook': sign(body) }, body },
    expect: label === 'no action' ? 410 : 400,
  }));
}

/** Google push for a real channel with bad proof or bad headers. */
export function googlePushAttacks(channel: {
  id: string;
  token: string;
  resourceId: string;
}): Attack[] {
  const push = (
    label: string,
    headers: Record<string, string>,
    expect: Attack['expect'],
  ): Attack => ({
    label: `google push: ${label}`,
    path: '/v1/webhooks/google-calendar',
    init: {
      method: 'POST',
      headers: {
        'x-goog-channel-id': channel.id,
        'x-goog-resource-state': 'exists',
        'x-goog-message-number': '7',
        ...headers,
      },
    },
    expect,
  });
  return [
    // Google's `sync` handshake may precede the stored channel: acknowledged, never stored.
    push(
      'sync for an unknown channel',
      { 'x-goog-channel-id': crypto.randomUUID(), 'x-goog-resource-state': 'sync' },
      200,
    ),
    push('no channel id', { 'x-goog-channel-id': '' }, 401),
    push(
      'unknown channel',
      { 'x-goog-channel-id': crypto.randomUUID(), 'x-goog-channel-token': channel.token },
      404,
    ),
    push('10 KB channel id', { 'x-goog-channel-id': 'c'.repeat(10_000) }, 404),
    push('latin-1 channel id', { 'x-goog-channel-id': 'ÿþ-chan' }, 404),
    push(
      'wrong channel token',
      { 'x-goog-channel-token': `${channel.token}x`, 'x-goog-resource-id': channel.resourceId },
      401,
    ),
    push('no channel token', { 'x-goog-resource-id': channel.resourceId }, 401),
    push(
      'wrong resource id',
      { 'x-goog-channel-token': channel.token, 'x-goog-resource-id': 'other' },
      401,
    ),
    push(
      'message number not a number',
      {
        'x-goog-channel-token': channel.token,
        'x-goog-resource-id': channel.resourceId,
        'x-goog-message-number': 'abc',
      },
      400,
    ),
    push(
      '25-digit message number',
      {
        'x-goog-channel-token': channel.token,
        'x-goog-resource-id': channel.resourceId,
        'x-goog-message-number': '9'.repeat(25),
      },
      400,
    ),
    push(
      'unknown resource state',
      {
        'x-goog-channel-token': channel.token,
        'x-goog-resource-id': channel.resourceId,
        'x-goog-resource-state': 'garbage',
      },
      200,
    ),
  ];
}

/** Bad OAuth callbacks: no connection may come of them. */
export function callbackAttacks(): Attack[] {
  const attacks: Attack[] = [];
  for (const p of ['google-calendar', 'trello', 'jira', 'no-such-provider']) {
    // An enabled provider's callback refuses a bad state or query with 400; others are a 404.
    const refused = ENABLED.has(p) ? 400 : 404;
    const get = (
      label: string,
      query: string,
      headers: Record<string, string> = {},
      expect = refused,
    ) =>
      attacks.push({
        label: `${p} callback: ${label}`,
        path: `/v1/oauth/${p}/callback${query}`,
        init: { headers },
        expect,
      });
    get('no query', '');
    get('unknown state', '?state=not-a-state&code=4/0sbx-forged');
    get('repeated state', '?state=a&state=b&code=c&code=d');
    get('operator injection', '?state[$ne]=1&code[$gt]=');
    get('8 KB code', `?state=s&code=${'c'.repeat(8_000)}`);
    get('invalid UTF-8 and NUL', '?state=%ff%fe&code=%00');
    get('error without state', '?error=access_denied');
    get('OAuth 1 unknown token', '?oauth_token=unknown&oauth_verifier=v');
    get('garbage query', garbageQuery);
    get('20 KB URL', longQuery, {}, 431);
    get('browser asks for HTML', '?state=zzz&code=c', { accept: 'text/html' });
    attacks.push({
      label: `${p} callback: POST with a body`,
      path: `/v1/oauth/${p}/callback`,
      init: { method: 'POST', headers: json, body: '{"code":"c"}' },
      expect: 404, // the callback is GET only
    });
  }
  attacks.push({
    label: 'callback: invalid UTF-8 provider',
    path: '/v1/oauth/%ff/callback?state=s',
    init: {},
    expect: 400,
  });
  return attacks;
}
