import { deep, invalidUtf8, oversized, type Attack } from './security-attacks.js';

/** Authenticated calls with malformed input: 400 (413 for size), never a 5xx, nothing changed. */
export function internalAttacks(connectionId: string): Attack[] {
  const authorize = '/v1/connections/google-calendar/authorize';
  const sync = `/v1/connections/${connectionId}/sync`;
  const schedule = `/v1/connections/${connectionId}/sync-schedule`;
  const body = (
    label: string,
    path: string,
    method: string,
    payload: string | Buffer,
    expect: Attack['expect'] = 400,
    headers: Record<string, string> = {},
  ): Attack => ({
    label,
    path,
    init: { method, body: payload, headers },
    expect,
  });
  const query = (label: string, path: string, method = 'GET'): Attack => ({
    label,
    path,
    init: { method },
    expect: 400,
  });
  const cursor = (s: string) => Buffer.from(JSON.stringify({ v: 1, s })).toString('base64url');
  return [
    body('authorize: invalid JSON', authorize, 'POST', '{"userId":'),
    body('authorize: array', authorize, 'POST', '[]'),
    body('authorize: null', authorize, 'POST', 'null'),
    body('authorize: string', authorize, 'POST', '"user"'),
    body('authorize: number userId', authorize, 'POST', '{"userId":5}'),
    body('authorize: array userId', authorize, 'POST', '{"userId":["a"]}'),
    body('authorize: unknown field', authorize, 'POST', '{"userId":"u","admin":true}'),
    // class-transformer skips `__proto__` keys (its prototype-pollution guard), so the key never
    // reaches whitelist validation and the rest is a valid request: dropped, not refused.
    body('authorize: __proto__', authorize, 'POST', '{"userId":"u","__proto__":{"a":1}}', 201),
    body(
      'authorize: 201-char userId',
      authorize,
      'POST',
      JSON.stringify({ userId: 'u'.repeat(201) }),
    ),
    body('authorize: NUL in userId', authorize, 'POST', '{"userId":"u\\u0000"}'),
    body(
      'authorize: javascript: returnTo',
      authorize,
      'POST',
      '{"userId":"u","returnTo":"javascript:alert(1)"}',
    ),
    body(
      'authorize: foreign returnTo',
      authorize,
      'POST',
      '{"userId":"u","returnTo":"https://evil.example/x"}',
    ),
    body('authorize: invalid UTF-8', authorize, 'POST', invalidUtf8),
    body('authorize: 20k-deep JSON field', authorize, 'POST', `{"userId":"u","x":${deep()}}`),
    body('authorize: text/plain', authorize, 'POST', '{"userId":"u"}', 400, {
      'content-type': 'text/plain',
    }),
    body('authorize: XML', authorize, 'POST', '<userId>u</userId>', 400, {
      'content-type': 'application/xml',
    }),
    body('authorize: oversized', authorize, 'POST', oversized, 413),
    body('sync: unknown mode', sync, 'POST', '{"mode":"everything"}'),
    body('sync: numeric mode', sync, 'POST', '{"mode":1}'),
    body('sync: unknown field', sync, 'POST', '{"mode":"full","priority":1}'),
    body('sync: invalid JSON', sync, 'POST', '{"mode":'),
    body('sync: not a uuid', '/v1/connections/not-a-uuid/sync', 'POST', '{}'),
    body('schedule: string', schedule, 'PUT', '{"intervalMinutes":"15"}'),
    body('schedule: zero', schedule, 'PUT', '{"intervalMinutes":0}'),
    body('schedule: fraction', schedule, 'PUT', '{"intervalMinutes":1.5}'),
    body('schedule: 1e309', schedule, 'PUT', '{"intervalMinutes":1e309}'),
    body('schedule: missing', schedule, 'PUT', '{}'),
    body('schedule: unknown field', schedule, 'PUT', '{"intervalMinutes":15,"cron":"* * * * *"}'),
    query('items: no userId', '/v1/items'),
    query('items: userId array', '/v1/items?userId=a&userId=b'),
    query('items: userId object', '/v1/items?userId[$ne]=x'),
    query('items: NUL userId', '/v1/items?userId=%00'),
    query('items: limit abc', '/v1/items?userId=u&limit=abc'),
    query('items: limit 1e400', '/v1/items?userId=u&limit=1e400'),
    query('items: cursor garbage', '/v1/items?userId=u&cursor=!!!'),
    query(
      'items: cursor past bigint',
      `/v1/items?userId=u&cursor=${cursor('99999999999999999999')}`,
    ),
    query('items: unknown kind', '/v1/items?userId=u&kind=evil'),
    query('items: provider path', '/v1/items?userId=u&provider=../x'),
    query('items: includeRaw yes', '/v1/items?userId=u&includeRaw=yes'),
    query('merged items: merged maybe', '/v1/items?userId=u&merged=maybe'),
    query('merged items: with kind', '/v1/items?userId=u&merged=true&kind=task'),
    query('merged items: cursor garbage', '/v1/items?userId=u&merged=true&cursor=%7B%7D'),
    query('item links: no userId', '/v1/item-links'),
    query('item links: itemId not a uuid', '/v1/item-links?userId=u&itemId=1%20OR%201=1'),
    body('join: invalid JSON', '/v1/item-links', 'POST', '{"userId":'),
    body('join: missing linkedItemId', '/v1/item-links', 'POST', '{"userId":"u","itemId":"x"}'),
    body(
      'join: ids not uuids',
      '/v1/item-links',
      'POST',
      '{"userId":"u","itemId":"a","linkedItemId":"b"}',
    ),
    body(
      'join: unknown field',
      '/v1/item-links',
      'POST',
      JSON.stringify({
        userId: 'u',
        itemId: crypto.randomUUID(),
        linkedItemId: crypto.randomUUID(),
        origin: 'detected',
      }),
    ),
    query('split: not a uuid', '/v1/item-links/not-a-uuid?userId=u', 'DELETE'),
    query('split: no userId', `/v1/item-links/${crypto.randomUUID()}`, 'DELETE'),
    query(
      'occurrences: no userId',
      '/v1/occurrences?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z',
    ),
    query(
      'occurrences: from not a date',
      '/v1/occurrences?userId=u&from=soon&to=2026-02-01T00:00:00Z',
    ),
    query(
      'occurrences: to before from',
      '/v1/occurrences?userId=u&from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z',
    ),
    query(
      'occurrences: window over a year',
      '/v1/occurrences?userId=u&from=2026-01-01T00:00:00Z&to=2027-06-01T00:00:00Z',
    ),
    query(
      'occurrences: cursor garbage',
      '/v1/occurrences?userId=u&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&cursor=!!!',
    ),
    query('connections: empty userId', '/v1/connections?userId='),
    query('connections: userId object', '/v1/connections?userId[a]=1'),
    query('connections: NUL userId', '/v1/connections?userId=%00'),
    query('connection: not a uuid', '/v1/connections/not-a-uuid'),
    query('connection: invalid UTF-8 id', '/v1/connections/%ff%fe'),
    query(
      'disconnect: purgeItems maybe',
      `/v1/connections/${crypto.randomUUID()}?purgeItems=maybe`,
      'DELETE',
    ),
  ];
}
