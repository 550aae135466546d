import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedAppConfig } from '../../core/config/app-config.js';
import { standaloneContextFactory } from '../testing.js';
import type {
  ConnectionQuery,
  StoredWebhookSubscription,
  WebhookParseContext,
  WebhookRequest,
  WebhookVerifyContext,
} from '@pdeck/integration-sdk';
import { CHANNEL_TTL_MS, GoogleCalendarWebhooks } from './google-calendar.webhooks.js';

const hooks = new GoogleCalendarWebhooks();
const NOW = new Date('2026-03-04T10:15:00.000Z');

const SUB: StoredWebhookSubscription = {
  id: 'row-1',
  connectionId: 'conn-1',
  resourceId: 'alice@example.com',
  externalId: '4ba78bf0-6a47-11e2-bcfd-0800200c9a66',
  externalResourceId: 'ret08u3rv24htgh289g',
  secret: 'n3Vq0w8mB6cFJ4kqg0Yf7x1xq8rE2H6bU5sT9aLpZcM',
  callbackUrl: 'https://pdeck.example/v1/webhooks/google-calendar',
  expiresAt: new Date('2026-03-11T10:15:00.000Z'),
};

const verifyCtx: WebhookVerifyContext = {
  appSecret: 'unused-by-google',
  now: () => NOW,
  findSubscription: async (externalId) => (externalId === SUB.externalId ? SUB : null),
  callbackUrlsFor: async () => [],
};

/**
 * The example notification of Google's push guide
 * (https://developers.google.com/workspace/calendar/api/guides/push), addressed to SUB.
 */
function notification(overrides: Record<string, string | undefined> = {}): WebhookRequest {
  const headers: Record<string, string | undefined> = {
    'content-type': 'application/json; utf-8',
    'content-length': '0',
    'x-goog-channel-id': SUB.externalId,
    'x-goog-channel-token': SUB.secret!,
    'x-goog-channel-expiration': 'Wed, 11 Mar 2026 10:15:00 GMT',
    'x-goog-resource-id': SUB.externalResourceId!,
    'x-goog-resource-uri':
      'https://www.googleapis.com/calendar/v3/calendars/alice@example.com/events',
    'x-goog-resource-state': 'exists',
    'x-goog-message-number': '10',
    ...overrides,
  };
  return { rawBody: Buffer.alloc(0), headers, url: SUB.callbackUrl, query: {} };
}

describe('verify', () => {
  it('accepts a known channel with the right token; the delivery id is channel + message number', async () => {
    expect(await hooks.verify(notification(), verifyCtx)).toEqual({
      ok: true,
      deliveryId: `${SUB.externalId}:10`,
    });
  });

  it.each([
    ['a wrong token', { 'x-goog-channel-token': `${SUB.secret!.slice(0, -1)}N` }],
    ['a shorter token', { 'x-goog-channel-token': 'short' }],
    ['no token', { 'x-goog-channel-token': undefined }],
    ['a wrong resource id', { 'x-goog-resource-id': 'other-resource' }],
    ['no channel id', { 'x-goog-channel-id': undefined }],
  ])('rejects %s with 401', async (_name, overrides) => {
    const result = await hooks.verify(notification(overrides), verifyCtx);
    expect(result.ok).toBe(false);
    expect(result.ok === false && (result.status ?? 401)).toBe(401);
  });

  it('answers 404 for a channel we do not know', async () => {
    const result = await hooks.verify(notification({ 'x-goog-channel-id': 'unknown' }), verifyCtx);
    expect(result).toMatchObject({ ok: false, status: 404 });
  });

  it('acknowledges the sync message without storing it, known channel or not yet stored', async () => {
    const sync = { 'x-goog-resource-state': 'sync', 'x-goog-message-number': '1' };
    const known = await hooks.verify(notification(sync), verifyCtx);
    expect(known).toMatchObject({ ok: true, immediateResponse: { status: 200 } });
    const early = await hooks.verify(
      notification({ ...sync, 'x-goog-channel-id': 'not-stored-yet' }),
      verifyCtx,
    );
    expect(early).toMatchObject({ ok: true, immediateResponse: { status: 200 } });
  });

  it('still checks the token of a known channel before acknowledging sync', async () => {
    const forged = { 'x-goog-resource-state': 'sync', 'x-goog-channel-token': 'guess' };
    expect((await hooks.verify(notification(forged), verifyCtx)).ok).toBe(false);
  });

  it('rejects an authentic change notification without a message number as malformed', async () => {
    const result = await hooks.verify(notification({ 'x-goog-message-number': 'abc' }), verifyCtx);
    expect(result).toMatchObject({ ok: false, status: 400 });
  });
});

describe('parse', () => {
  const queries: ConnectionQuery[] = [];
  const parseCtx: WebhookParseContext = {
    now: () => NOW,
    storedItem: async () => null,
    findSubscription: verifyCtx.findSubscription,
    findConnections: async (query) => {
      queries.push(query);
      return [
        { connectionId: 'conn-1', accountId: 'alice@example.com', resourceId: SUB.resourceId },
      ];
    },
  };
  const delivery = (state: string) => ({
    deliveryId: `${SUB.externalId}:10`,
    body: '',
    headers: { 'x-goog-channel-id': SUB.externalId, 'x-goog-resource-state': state },
    receivedAt: NOW,
  });

  it('asks for an incremental sync of the watched calendar, routed by channel id', async () => {
    for (const state of ['exists', 'not_exists']) {
      expect(await hooks.parse(delivery(state), parseCtx)).toEqual([
        { type: 'resource-changed', connectionId: 'conn-1', resourceId: 'alice@example.com' },
      ]);
    }
    expect(queries[0]).toEqual({ subscriptionExternalId: SUB.externalId });
  });

  it('ignores anything else', async () => {
    expect(await hooks.parse(delivery('sync'), parseCtx)).toEqual([]);
  });

  it('stores exactly the headers parse reads, and no token', () => {
    expect(hooks.storedHeaders).toContain('x-goog-channel-id');
    expect(hooks.storedHeaders).toContain('x-goog-resource-state');
    expect(hooks.storedHeaders).not.toContain('x-goog-channel-token');
  });
});

describe('subscription lifecycle over HTTP', () => {
  const seen: { path: string; body: Record<string, unknown>; auth?: string }[] = [];
  let server: Server;
  let origin: string;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        seen.push({ path: req.url!, body, auth: req.headers.authorization });
        const refusal = req.url!.includes('holiday')
          ? 'pushNotSupportedForRequestedResource'
          : req.url!.includes('broken')
            ? 'invalid'
            : undefined;
        if (refusal) {
          res.writeHead(400, { 'content-type': 'application/json' });
          const message = 'Push notifications are not supported by this resource.';
          res.end(
            JSON.stringify({
              error: { errors: [{ domain: 'calendar', reason: refusal, message }], code: 400 },
            }),
          );
        } else if (req.url!.endsWith('/events/watch')) {
          res.writeHead(200, { 'content-type': 'application/json' });
          // Google echoes the channel; int64 expiration arrives as a string.
          const expiration = String(Number(body.expiration) - 60_000);
          res.end(
            JSON.stringify({ kind: 'api#channel', ...body, resourceId: 'res-1', expiration }),
          );
        } else res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const ctx = () =>
    standaloneContextFactory({
      providerOrigins: { 'https://www.googleapis.com': origin },
    } as unknown as ResolvedAppConfig).create({
      provider: 'google-calendar',
      connectionId: 'conn-1',
      accountId: 'alice@example.com',
      credentials: async () => ({ accessToken: 'access-1' }),
    });

  it('watches a calendar with a fresh channel id and a 32-byte token for 7 days', async () => {
    const before = Date.now();
    const sub = await hooks.subscribe(
      ctx(),
      { id: 'alice@example.com', name: 'Alice' },
      SUB.callbackUrl,
    );
    const sent = seen[0].body;
    expect(seen[0].path).toBe('/calendar/v3/calendars/alice%40example.com/events/watch');
    expect(seen[0].auth).toBe('Bearer access-1');
    expect(sent).toMatchObject({ type: 'web_hook', address: SUB.callbackUrl });
    expect(Buffer.from(sent.token as string, 'base64url')).toHaveLength(32);
    expect(Number(sent.expiration) - before).toBeGreaterThanOrEqual(CHANNEL_TTL_MS);
    expect(sub).toEqual({
      externalId: sent.id,
      externalResourceId: 'res-1',
      secret: sent.token,
      expiresAt: new Date(Number(sent.expiration) - 60_000),
    });
    const again = await hooks.subscribe(
      ctx(),
      { id: 'alice@example.com', name: 'Alice' },
      SUB.callbackUrl,
    );
    expect(again!.externalId).not.toBe(sub!.externalId);
    expect(again!.secret).not.toBe(sub!.secret);
  });

  it('subscribes nothing for a calendar Google does not push for, fails on other errors', async () => {
    const holidays = { id: 'en.usa#holiday@group.v.calendar.google.com', name: 'Holidays' };
    expect(await hooks.subscribe(ctx(), holidays, SUB.callbackUrl)).toBeNull();
    const other = hooks.subscribe(ctx(), { id: 'broken', name: 'Broken' }, SUB.callbackUrl);
    await expect(other).rejects.toMatchObject({ code: 'UNKNOWN', status: 400 });
  });

  it('stops a channel by id and resource id', async () => {
    seen.length = 0;
    await hooks.unsubscribe(ctx(), SUB);
    expect(seen).toEqual([
      {
        path: '/calendar/v3/channels/stop',
        body: { id: SUB.externalId, resourceId: SUB.externalResourceId },
        auth: 'Bearer access-1',
      },
    ]);
  });
});
