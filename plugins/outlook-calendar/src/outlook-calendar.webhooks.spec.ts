import { describe, expect, it } from 'vitest';
import type {
  StoredWebhookSubscription,
  WebhookParseContext,
  WebhookVerifyContext,
} from '@pdeck/integration-sdk';
import { OutlookCalendarWebhooks } from './outlook-calendar.webhooks.js';

const hooks = new OutlookCalendarWebhooks();
const SUB: StoredWebhookSubscription = {
  id: 'row-1',
  connectionId: 'conn-1',
  resourceId: 'cal-1',
  externalId: 'sub-1',
  externalResourceId: null,
  secret: 'the-client-state',
  callbackUrl: 'https://pdeck.example/v1/webhooks/outlook-calendar',
  expiresAt: null,
};
const verifyCtx: WebhookVerifyContext = {
  appSecret: 'app',
  findSubscription: async (id) => (id === SUB.externalId ? SUB : null),
  callbackUrlsFor: async () => [],
  now: () => new Date(),
};
const request = (body: string, query: Record<string, string> = {}) => ({
  rawBody: Buffer.from(body),
  headers: {},
  url: 'https://pdeck.example/v1/webhooks/outlook-calendar',
  query,
});
const change = (over: Record<string, unknown> = {}) => ({
  subscriptionId: 'sub-1',
  clientState: 'the-client-state',
  changeType: 'updated',
  resource: 'Users/u/Events/e',
  ...over,
});

describe('Outlook webhooks: verify', () => {
  it('answers the validation handshake with the token, 200 text/plain, storing nothing', async () => {
    const token =
      'Validation: Testing client application reachability for subscription Request-Id: 1';
    const result = await hooks.verify(request('', { validationToken: token }), verifyCtx);
    expect(result).toMatchObject({
      ok: true,
      immediateResponse: { status: 200, contentType: 'text/plain', body: token },
    });
    expect(result.ok && result.deliveryId).toMatch(/^validation:[0-9a-f]{64}$/);
  });

  it('refuses validation tokens that are empty, too long or not printable ASCII', async () => {
    for (const token of ['', 'x'.repeat(1025), '<script>\n', 'caf\u00e9']) {
      const result = await hooks.verify(request('', { validationToken: token }), verifyCtx);
      expect(result.ok).toBe(false);
    }
  });

  it('accepts a batch whose every clientState matches, with a delivery id from the bytes', async () => {
    const body = JSON.stringify({ value: [change(), change({ changeType: 'created' })] });
    const a = await hooks.verify(request(body), verifyCtx);
    const b = await hooks.verify(request(body), verifyCtx);
    expect(a).toMatchObject({ ok: true });
    expect(a.ok && a.deliveryId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(a).toEqual(b);
    const other = await hooks.verify(request(JSON.stringify({ value: [change()] })), verifyCtx);
    expect(other.ok && other.deliveryId).not.toBe(a.ok && a.deliveryId);
  });

  it('401 when any clientState is wrong or missing, or the subscription is unknown', async () => {
    for (const entries of [
      [change({ clientState: 'forged' })],
      [change(), change({ clientState: 'the-client-statE' })],
      [change({ clientState: undefined })],
      [change({ subscriptionId: 'unknown' })],
    ]) {
      const result = await hooks.verify(request(JSON.stringify({ value: entries })), verifyCtx);
      expect(result).toMatchObject({ ok: false });
      expect(result.ok === false && result.status).toBeUndefined(); // 401 default
    }
  });

  it('401 for what is not a batch; 400 only for an authentic but unknown notification', async () => {
    for (const body of ['', 'not json', '{}', '{"value":[]}', '{"value":[1]}', 'null']) {
      const result = await hooks.verify(request(body), verifyCtx);
      expect(result).toMatchObject({ ok: false });
      expect(result.ok === false && result.status).toBeUndefined();
    }
    const odd = JSON.stringify({ value: [change({ changeType: undefined })] });
    expect(await hooks.verify(request(odd), verifyCtx)).toMatchObject({ ok: false, status: 400 });
  });
});

describe('Outlook webhooks: parse', () => {
  const parseCtx: WebhookParseContext = {
    findConnections: async (q) =>
      'subscriptionExternalId' in q && q.subscriptionExternalId === 'sub-1'
        ? [{ connectionId: 'conn-1', accountId: 'acc', resourceId: 'cal-1' }]
        : [],
    findSubscription: async (id) => (id === 'sub-1' ? SUB : null),
    storedItem: async () => null,
    now: () => new Date(),
  };
  const parse = (entries: object[]) =>
    hooks.parse(
      {
        deliveryId: 'd',
        body: JSON.stringify({ value: entries }),
        headers: {},
        receivedAt: new Date(),
      },
      parseCtx,
    );
  const sync = { type: 'resource-changed', connectionId: 'conn-1', resourceId: 'cal-1' };
  const attention = (action: string) => ({
    type: 'subscription-attention',
    connectionId: 'conn-1',
    subscriptionExternalId: 'sub-1',
    action,
  });

  it('change notifications ask for one delta sync of the calendar', async () => {
    expect(await parse([change(), change({ changeType: 'deleted' })])).toEqual([sync]);
    expect(await parse([change({ subscriptionId: 'gone' })])).toEqual([]);
  });

  it('lifecycle events: renew, replace plus resync, resync', async () => {
    const life = (lifecycleEvent: string) => ({ subscriptionId: 'sub-1', lifecycleEvent });
    expect(await parse([life('reauthorizationRequired')])).toEqual([attention('renew')]);
    expect(await parse([life('subscriptionRemoved')])).toEqual([attention('replace'), sync]);
    expect(await parse([life('missed')])).toEqual([sync]);
    expect(await parse([life('somethingNew')])).toEqual([]);
    expect(await parse([life('toString')])).toEqual([]);
    expect(await parse([life('missed'), life('reauthorizationRequired'), change()])).toEqual([
      sync,
      attention('renew'),
    ]);
  });
});
