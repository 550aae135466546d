import { describe, expect, it } from 'vitest';
import type {
  ConnectionQuery,
  RoutedConnection,
  StoredWebhookDelivery,
  WebhookParseContext,
  WebhookRequest,
  WebhookVerifyContext,
} from '@pdeck/integration-sdk';
import { trelloSignature, TrelloWebhooks } from './trello.webhooks.js';

/**
 * Trello publishes no test vector: this one was computed independently (Python's hmac) from the
 * documented algorithm, base64(HMAC-SHA1(secret, body + callback URL)).
 */
const VECTOR = {
  secret: 'my-trello-app-secret',
  callbackURL: 'https://example.com/trello/hook',
  rawBody:
    '{"action":{"id":"5f0c0c0c0c0c0c0c0c0c0c0c","type":"updateCard"},"model":{"id":"5f0b0b0b0b0b0b0b0b0b0b0b"}}',
  header: 'o6OUexI+QK1JAf2NS8eHYco5l4w=',
};

const hooks = new TrelloWebhooks(() => 'api-key');

/** Our subscriptions: the vector's board, registered at the vector's callback URL. */
function verifyContext(
  secret = VECTOR.secret,
  watched: Record<string, string[]> = { '5f0b0b0b0b0b0b0b0b0b0b0b': [VECTOR.callbackURL] },
): WebhookVerifyContext {
  return {
    appSecret: secret,
    findSubscription: async () => null,
    callbackUrlsFor: async (resourceId) => watched[resourceId] ?? [],
    now: () => new Date('2026-03-04T10:00:00.000Z'),
  };
}

function request(body: string | Buffer, header?: string, url = VECTOR.callbackURL): WebhookRequest {
  return {
    rawBody: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
    headers: header === undefined ? {} : { 'x-trello-webhook': header },
    url,
    query: {},
  };
}

describe('trelloSignature', () => {
  it('reproduces the independently computed vector', () => {
    expect(trelloSignature(VECTOR.secret, Buffer.from(VECTOR.rawBody), VECTOR.callbackURL)).toBe(
      VECTOR.header,
    );
  });
});

describe('TrelloWebhooks.verify', () => {
  it('accepts the vector; the delivery id is board + action', async () => {
    const result = await hooks.verify(request(VECTOR.rawBody, VECTOR.header), verifyContext());
    expect(result).toEqual({
      ok: true,
      deliveryId: '5f0b0b0b0b0b0b0b0b0b0b0b:5f0c0c0c0c0c0c0c0c0c0c0c',
    });
  });

  it('rejects a forged signature, a missing header and another secret', async () => {
    const forged = await hooks.verify(
      request(VECTOR.rawBody, 'AAAAAAAAAAAAAAAAAAAAAAAAAAA='),
      verifyContext(),
    );
    expect(forged).toMatchObject({ ok: false });
    expect((forged as { status?: number }).status).toBeUndefined(); // 401, not 400
    expect(await hooks.verify(request(VECTOR.rawBody), verifyContext())).toMatchObject({
      ok: false,
    });
    const otherSecret = await hooks.verify(
      request(VECTOR.rawBody, VECTOR.header),
      verifyContext('another-secret'),
    );
    expect(otherSecret).toMatchObject({ ok: false });
  });

  it('rejects a body signed for another callback URL', async () => {
    const other = 'https://example.com/trello/hook?board=5f0b0b0b0b0b0b0b0b0b0b0b';
    const header = trelloSignature(VECTOR.secret, Buffer.from(VECTOR.rawBody), other);
    const result = await hooks.verify(request(VECTOR.rawBody, header), verifyContext());
    expect(result).toMatchObject({ ok: false, reason: 'signature mismatch' });
    // ... and a trailing slash is another URL too: the callback URL is signed byte for byte.
    const slashed = trelloSignature(
      VECTOR.secret,
      Buffer.from(VECTOR.rawBody),
      `${VECTOR.callbackURL}/`,
    );
    const slash = await hooks.verify(
      request(VECTOR.rawBody, slashed, `${VECTOR.callbackURL}/`),
      verifyContext(),
    );
    expect(slash).toMatchObject({ ok: false, reason: 'signature mismatch' });
  });

  it('verifies against the URL stored with the subscription, not the URL called', async () => {
    // PUBLIC_URL moved after the webhook was registered: Trello still signs the old URL.
    const old = 'https://old.example/v1/webhooks/trello';
    const called = 'https://new.example/v1/webhooks/trello';
    const ctx = verifyContext(VECTOR.secret, { '5f0b0b0b0b0b0b0b0b0b0b0b': [old] });
    const header = trelloSignature(VECTOR.secret, Buffer.from(VECTOR.rawBody), old);
    expect(await hooks.verify(request(VECTOR.rawBody, header, called), ctx)).toEqual({
      ok: true,
      deliveryId: '5f0b0b0b0b0b0b0b0b0b0b0b:5f0c0c0c0c0c0c0c0c0c0c0c',
    });
    // Signed for the URL called, which this board's webhook was never registered with.
    const forCalled = trelloSignature(VECTOR.secret, Buffer.from(VECTOR.rawBody), called);
    expect(await hooks.verify(request(VECTOR.rawBody, forCalled, called), ctx)).toMatchObject({
      ok: false,
      reason: 'signature mismatch',
    });
  });

  it('answers 410 for an authentic delivery about a board we do not watch, 401 if forged', async () => {
    const ctx = verifyContext(VECTOR.secret, {});
    const gone = await hooks.verify(request(VECTOR.rawBody, VECTOR.header), ctx);
    expect(gone).toMatchObject({ ok: false, status: 410 });
    const forged = await hooks.verify(request(VECTOR.rawBody, 'AAAAAAAAAAAAAAAAAAAAAAAAAAA='), ctx);
    expect(forged).toMatchObject({ ok: false, reason: 'signature mismatch' });
    expect((forged as { status?: number }).status).toBeUndefined();
  });

  it('rejects the same JSON re-serialized (whitespace, key order, unicode escapes)', async () => {
    const parsed = JSON.parse(VECTOR.rawBody) as unknown;
    const variants = [
      JSON.stringify(parsed, null, 1),
      '{"model":{"id":"5f0b0b0b0b0b0b0b0b0b0b0b"},"action":{"id":"5f0c0c0c0c0c0c0c0c0c0c0c","type":"updateCard"}}',
      VECTOR.rawBody.replace('updateCard', 'update\\u0043ard'),
    ];
    for (const body of variants) {
      const result = await hooks.verify(request(body, VECTOR.header), verifyContext());
      expect(result).toMatchObject({ ok: false, reason: 'signature mismatch' });
    }
  });

  it('verifies the raw bytes of a non-ASCII body', async () => {
    const body = Buffer.from(
      '{"action":{"id":"a1","type":"updateCard","data":{"t":"Café ✓"}},"model":{"id":"b1"}}',
    );
    const header = trelloSignature(VECTOR.secret, body, VECTOR.callbackURL);
    const ctx = verifyContext(VECTOR.secret, { b1: [VECTOR.callbackURL] });
    expect(await hooks.verify(request(body, header), ctx)).toEqual({
      ok: true,
      deliveryId: 'b1:a1',
    });
  });

  it('answers 400 for a correctly signed delivery about our board without an action', async () => {
    const body = '{"model":{"id":"b1"}}';
    const header = trelloSignature(VECTOR.secret, Buffer.from(body), VECTOR.callbackURL);
    const ctx = verifyContext(VECTOR.secret, { b1: [VECTOR.callbackURL] });
    expect(await hooks.verify(request(body, header), ctx)).toMatchObject({
      ok: false,
      status: 400,
    });
  });

  it('answers 400 for a correctly signed body without a readable model (cannot be routed)', async () => {
    const body = 'not json';
    const header = trelloSignature(VECTOR.secret, Buffer.from(body), VECTOR.callbackURL);
    expect(await hooks.verify(request(body, header), verifyContext())).toMatchObject({
      ok: false,
      status: 400,
    });
  });

  it('answers 410 for a correctly signed body about a board none of our subscriptions watches', async () => {
    const body = JSON.stringify({ action: { id: 'a1' }, model: { id: 'board-not-ours' } });
    const header = trelloSignature(VECTOR.secret, Buffer.from(body), VECTOR.callbackURL);
    expect(await hooks.verify(request(body, header), verifyContext())).toMatchObject({
      ok: false,
      status: 410,
    });
  });
});

describe('TrelloWebhooks.parse', () => {
  const queries: ConnectionQuery[] = [];
  const routed: RoutedConnection[] = [
    { connectionId: 'conn-1', accountId: 'member-1', resourceId: 'board-1' },
    { connectionId: 'conn-2', accountId: 'member-2', resourceId: 'board-1' },
  ];
  const ctx: WebhookParseContext = {
    findConnections: async (query) => {
      queries.push(query);
      return routed;
    },
    findSubscription: async () => null,
    storedItem: async () => null,
    now: () => new Date(),
  };
  const delivery = (
    action: unknown,
    model: unknown = { id: 'board-1' },
  ): StoredWebhookDelivery => ({
    deliveryId: 'd',
    body: JSON.stringify({ action, model }),
    headers: {},
    receivedAt: new Date(),
  });

  it('deleteCard: a versioned deletion for every connection watching the board', async () => {
    queries.length = 0;
    const events = await hooks.parse(
      delivery({
        id: 'a1',
        type: 'deleteCard',
        date: '2026-03-04T09:41:17.512Z',
        data: { card: { id: 'card-1' }, board: { id: 'board-1' } },
      }),
      ctx,
    );
    expect(queries).toEqual([{ resourceId: 'board-1' }]);
    expect(events).toEqual(
      ['conn-1', 'conn-2'].map((connectionId) => ({
        type: 'items',
        connectionId,
        upserts: [],
        deletions: [
          { kind: 'task', externalId: 'card-1', externalVersion: '2026-03-04T09:41:17.512Z' },
        ],
      })),
    );
  });

  it('card changes and list renames: an incremental sync of the board', async () => {
    const actions = [
      { id: 'a2', type: 'updateCard', data: { card: { id: 'card-1' }, old: { name: 'x' } } },
      { id: 'a3', type: 'createCard', data: { card: { id: 'card-2' } } },
      { id: 'a4', type: 'moveCardFromBoard', data: { card: { id: 'card-3' } } },
      { id: 'a5', type: 'updateList', data: { list: { id: 'l1' }, old: { name: 'Todo' } } },
    ];
    for (const action of actions) {
      const events = await hooks.parse(delivery(action), ctx);
      expect(events).toEqual([
        { type: 'resource-changed', connectionId: 'conn-1', resourceId: 'board-1' },
        { type: 'resource-changed', connectionId: 'conn-2', resourceId: 'board-1' },
      ]);
    }
  });

  it('routes by the action board when the model is missing', async () => {
    queries.length = 0;
    await hooks.parse(
      delivery(
        { id: 'a6', type: 'createCard', data: { card: { id: 'c' }, board: { id: 'b9' } } },
        null,
      ),
      ctx,
    );
    expect(queries).toEqual([{ resourceId: 'b9' }]);
  });

  it('ignores what changes nothing we store, without a lookup', async () => {
    queries.length = 0;
    const ignored = [
      { id: 'a7', type: 'commentCard', data: { card: { id: 'card-1' } } },
      { id: 'a8', type: 'updateCheckItem', data: { card: { id: 'card-1' } } },
      { id: 'a9', type: 'updateList', data: { list: { id: 'l1' }, old: { pos: 1 } } },
      { id: 'a10', type: 'updateCard' }, // no card id
    ];
    for (const action of ignored) expect(await hooks.parse(delivery(action), ctx)).toEqual([]);
    expect(await hooks.parse({ ...delivery({}), body: 'garbage' }, ctx)).toEqual([]);
    expect(queries).toEqual([]);
  });
});
