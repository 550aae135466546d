import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_SCOPES,
  JiraFake,
  SANDBOX_JIRA_APP,
  SEED_SITES,
  signJwt,
} from '../../../sandbox/jira/index.js';
import type { ResolvedAppConfig } from '../../core/config/app-config.js';
import {
  ProviderError,
  type ProviderContext,
  type ConnectionQuery,
  type RoutedConnection,
  type StoredWebhookDelivery,
  type StoredWebhookSubscription,
  type WebhookParseContext,
  type WebhookRequest,
  type WebhookVerifyContext,
} from '@pdeck/integration-sdk';
import { standaloneContextFactory } from '../testing.js';
import { issueDeletion, mapIssue } from './jira.mapper.js';
import { siteExtras } from './jira.site.js';
import type { JiraIssue, JiraSite } from './jira.types.js';
import { isWebhookFilter, JiraWebhooks, RENEW_BEFORE_MS, WEBHOOK_TTL_MS } from './jira.webhooks.js';

const hooks = new JiraWebhooks();
const SECRET = SANDBOX_JIRA_APP.clientSecret;
const NOW = new Date('2026-03-04T10:00:00.000Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);
const CALLBACK = 'https://pdeck.example/v1/webhooks/jira';
const IDENTIFIER = '6b4a8c3e-2f1d-4b8a-9c7e-1a2b3c4d5e6f';

const verifyCtx: WebhookVerifyContext = {
  appSecret: SECRET,
  now: () => NOW,
  findSubscription: async () => null,
  callbackUrlsFor: async () => [],
};

/** The claims the sandbox puts in a delivery token (Atlassian's own set is not documented). */
const claims = (overrides: Record<string, unknown> = {}) => ({
  iss: 'jira',
  aud: SANDBOX_JIRA_APP.clientId,
  iat: NOW_S - 5,
  exp: NOW_S + 900,
  ...overrides,
});

function request(
  token: string | undefined,
  headers: Record<string, string | undefined> = {},
  body = '{"webhookEvent":"jira:issue_updated"}',
): WebhookRequest {
  return {
    rawBody: Buffer.from(body, 'utf8'),
    headers: {
      'content-type': 'application/json; charset=utf-8',
      authorization: token === undefined ? undefined : `Bearer ${token}`,
      'x-atlassian-webhook-identifier': IDENTIFIER,
      'x-atlassian-webhook-flow': 'Primary',
      ...headers,
    },
    url: CALLBACK,
    query: {},
  };
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('verify', () => {
  it('accepts an HS256 token signed with the client secret; the delivery id is the identifier', async () => {
    expect(await hooks.verify(request(signJwt(claims(), SECRET)), verifyCtx)).toEqual({
      ok: true,
      deliveryId: IDENTIFIER,
    });
  });

  it('accepts a token expired within the clock tolerance', async () => {
    const token = signJwt(claims({ exp: NOW_S - 10 }), SECRET);
    expect(await hooks.verify(request(token), verifyCtx)).toMatchObject({ ok: true });
  });

  it.each([
    ['alg none', () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`],
    [
      'HS512 with the right secret',
      () =>
        new SignJWT(claims())
          .setProtectedHeader({ alg: 'HS512' })
          .sign(new TextEncoder().encode(SECRET)),
    ],
    [
      'RS256',
      async () => {
        const { privateKey } = await generateKeyPair('RS256');
        return new SignJWT(claims()).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
      },
    ],
    ['another secret', () => signJwt(claims(), 'not-the-client-secret')],
    ['an expired token (beyond the tolerance)', () => signJwt(claims({ exp: NOW_S - 60 }), SECRET)],
    ['a token without exp', () => signJwt(claims({ exp: undefined }), SECRET)],
    ['a garbled token', () => 'not.a.jwt'],
    [
      'a tampered payload',
      () => {
        const [head, , sig] = signJwt(claims(), SECRET).split('.');
        return `${head}.${b64(claims({ exp: NOW_S + 99_999 }))}.${sig}`;
      },
    ],
  ])('refuses %s with 401', async (_name, make) => {
    const result = await hooks.verify(request(await make()), verifyCtx);
    expect(result.ok).toBe(false);
    expect(result.ok === false && (result.status ?? 401)).toBe(401);
  });

  it.each([
    ['no Authorization header', { authorization: undefined }],
    ['another scheme', { authorization: `JWT ${signJwt(claims(), SECRET)}` }],
    ['an empty bearer', { authorization: 'Bearer ' }],
  ])('refuses %s with 401', async (_name, headers) => {
    const result = await hooks.verify(request(undefined, headers), verifyCtx);
    expect(result.ok).toBe(false);
    expect(result.ok === false && (result.status ?? 401)).toBe(401);
  });

  it('refuses everything when no app secret is configured', async () => {
    const result = await hooks.verify(request(signJwt(claims(), '')), {
      ...verifyCtx,
      appSecret: '',
    });
    expect(result).toMatchObject({ ok: false });
    expect(result.ok === false && (result.status ?? 401)).toBe(401);
  });

  it('answers 400 for an authentic delivery without a usable identifier or JSON body', async () => {
    const token = signJwt(claims(), SECRET);
    const noId = request(token, { 'x-atlassian-webhook-identifier': undefined });
    expect(await hooks.verify(noId, verifyCtx)).toMatchObject({ ok: false, status: 400 });
    const long = request(token, { 'x-atlassian-webhook-identifier': 'x'.repeat(201) });
    expect(await hooks.verify(long, verifyCtx)).toMatchObject({ ok: false, status: 400 });
    const notJson = request(token, {}, 'not json');
    expect(await hooks.verify(notJson, verifyCtx)).toMatchObject({ ok: false, status: 400 });
    // ... but a forged one learns nothing: the signature is checked first.
    const forged = request(signJwt(claims(), 'guess'), {
      'x-atlassian-webhook-identifier': undefined,
    });
    const refused = await hooks.verify(forged, verifyCtx);
    expect(refused).toMatchObject({ ok: false });
    expect(refused).not.toHaveProperty('status');
  });

  it('stores the Atlassian delivery headers, never the Authorization header', () => {
    expect(hooks.storedHeaders).toEqual([
      'x-atlassian-webhook-identifier',
      'x-atlassian-webhook-flow',
      'x-atlassian-webhook-retry',
    ]);
    expect(hooks.storedHeaders).not.toContain('authorization');
    expect(hooks.renewBefore).toBe(RENEW_BEFORE_MS);
    expect(RENEW_BEFORE_MS).toBeLessThan(WEBHOOK_TTL_MS);
  });
});

describe('parse', () => {
  const CLOUD = SEED_SITES.pdeck;
  const HOST = 'pdeck.atlassian.net';
  const SITE: JiraSite = { cloudId: CLOUD, url: `https://${HOST}`, name: HOST };
  const TIMESTAMP = Date.parse('2026-03-04T09:41:17.512Z');

  /** Subscriptions by external id: two webhooks on pdeck (two connections), one on another site. */
  const subscriptions: Record<string, RoutedConnection[]> = {
    [`10000@${HOST}`]: [{ connectionId: 'conn-alice', accountId: 'alice', resourceId: CLOUD }],
    [`10001@${HOST}`]: [{ connectionId: 'conn-bob', accountId: 'bob', resourceId: CLOUD }],
    // A second webhook of alice's connection (a replacement not yet cleaned up).
    [`10002@${HOST}`]: [{ connectionId: 'conn-alice', accountId: 'alice', resourceId: CLOUD }],
    '10000@other.atlassian.net': [
      { connectionId: 'conn-other', accountId: 'carol', resourceId: 'cloud-other' },
    ],
  };
  const queries: ConnectionQuery[] = [];
  const parseCtx: WebhookParseContext = {
    now: () => NOW,
    storedItem: async () => null,
    findSubscription: async () => null,
    findConnections: async (query) => {
      queries.push(query);
      return 'subscriptionExternalId' in query
        ? (subscriptions[query.subscriptionExternalId] ?? [])
        : [];
    },
  };

  const fullIssue: JiraIssue = {
    id: '10042',
    key: 'PD-42',
    self: `https://${HOST}/rest/api/3/issue/10042`,
    fields: {
      summary: 'Ship the Jira integration',
      status: { name: 'In Progress', statusCategory: { key: 'indeterminate' } },
      updated: '2026-03-04T09:41:17.512+0000',
      created: '2026-03-01T08:00:00.000+0000',
      project: { id: '10000', key: 'PD', name: 'PDeck' },
      assignee: { accountId: '5b10ac8d82e05b22cc7d4ef5', displayName: 'Alice Example' },
      labels: ['backend'],
    },
  };

  const delivery = (payload: Record<string, unknown>): StoredWebhookDelivery => ({
    deliveryId: IDENTIFIER,
    body: JSON.stringify({ timestamp: TIMESTAMP, ...payload }),
    headers: { 'x-atlassian-webhook-identifier': IDENTIFIER },
    receivedAt: NOW,
  });

  beforeEach(() => {
    queries.length = 0;
  });

  it('routes by the site host and every matched webhook id, one event per connection', async () => {
    const events = await hooks.parse(
      delivery({
        webhookEvent: 'jira:issue_updated',
        matchedWebhookIds: [10000, 10001, 10000],
        issue: fullIssue,
      }),
      parseCtx,
    );
    expect(queries).toEqual([
      { subscriptionExternalId: `10000@${HOST}` },
      { subscriptionExternalId: `10001@${HOST}` },
    ]);
    expect(events.map((e) => e.connectionId)).toEqual(['conn-alice', 'conn-bob']);
  });

  it('serves a connection matched through two of its webhooks once', async () => {
    const events = await hooks.parse(
      delivery({
        webhookEvent: 'jira:issue_updated',
        matchedWebhookIds: [10000, 10002],
        issue: fullIssue,
      }),
      parseCtx,
    );
    expect(queries).toHaveLength(2);
    expect(events.map((e) => e.connectionId)).toEqual(['conn-alice']);
  });

  it('never serves a connection of another site with the same webhook id', async () => {
    const events = await hooks.parse(
      delivery({
        webhookEvent: 'jira:issue_updated',
        matchedWebhookIds: [10000],
        issue: fullIssue,
      }),
      parseCtx,
    );
    expect(events.map((e) => e.connectionId)).toEqual(['conn-alice']);
  });

  it('a full issue becomes an upsert mapped with the site of its host', async () => {
    const events = await hooks.parse(
      delivery({
        webhookEvent: 'jira:issue_created',
        matchedWebhookIds: [10000],
        issue: fullIssue,
      }),
      parseCtx,
    );
    const item = mapIssue(fullIssue, SITE)!;
    expect(events).toEqual([
      { type: 'items', connectionId: 'conn-alice', upserts: [item], deletions: [] },
    ]);
    expect(item.url).toBe(`https://${HOST}/browse/PD-42`);
    expect(item.containerId).toBe(CLOUD);
  });

  it('a deletion carries the delivery timestamp as its version', async () => {
    const events = await hooks.parse(
      delivery({
        webhookEvent: 'jira:issue_deleted',
        matchedWebhookIds: [10000],
        issue: { id: '10042', self: fullIssue.self },
      }),
      parseCtx,
    );
    const deletion = issueDeletion('10042', TIMESTAMP);
    expect(deletion.externalVersion).toBe('2026-03-04T09:41:17.512Z');
    expect(events).toEqual([
      { type: 'items', connectionId: 'conn-alice', upserts: [], deletions: [deletion] },
    ]);
  });

  it('a partial issue asks for an incremental sync of the site', async () => {
    const partial: JiraIssue = {
      id: '10042',
      self: fullIssue.self,
      fields: { summary: 'Only the summary' },
    };
    const events = await hooks.parse(
      delivery({ webhookEvent: 'jira:issue_updated', matchedWebhookIds: [10001], issue: partial }),
      parseCtx,
    );
    expect(events).toEqual([
      { type: 'resource-changed', connectionId: 'conn-bob', resourceId: CLOUD },
    ]);
  });

  it('ignores other events, unroutable deliveries and garbage, without lookups where it can', async () => {
    const ignored = [
      delivery({ webhookEvent: 'comment_created', matchedWebhookIds: [10000], issue: fullIssue }),
      delivery({ webhookEvent: 'jira:issue_updated', issue: fullIssue }),
      delivery({ webhookEvent: 'jira:issue_updated', matchedWebhookIds: [], issue: fullIssue }),
      delivery({
        webhookEvent: 'jira:issue_updated',
        matchedWebhookIds: [10000],
        issue: { ...fullIssue, self: undefined },
      }),
      { ...delivery({}), body: 'not json' },
    ];
    for (const d of ignored) expect(await hooks.parse(d, parseCtx)).toEqual([]);
    expect(queries).toEqual([]);
  });

  it('skips a routed connection without a resource id', async () => {
    const ctx: WebhookParseContext = {
      ...parseCtx,
      findConnections: async () => [{ connectionId: 'conn-x', accountId: 'x' }],
    };
    const d = delivery({
      webhookEvent: 'jira:issue_updated',
      matchedWebhookIds: [1],
      issue: fullIssue,
    });
    expect(await hooks.parse(d, ctx)).toEqual([]);
  });
});

describe('isWebhookFilter', () => {
  it.each([
    'project = PD',
    'assignee = "5b10ac8d82e05b22cc7d4ef5"',
    'project in (PD, OPS) AND status != "Done"',
    '(issuetype = Bug OR issueKey = PD-3) and reporter not in ("a", \'b\')',
    'Status = "Say \\"hi\\""',
  ])('accepts %s', (jql) => expect(isWebhookFilter(jql)).toBe(true));

  it.each([
    '',
    'statusCategory != Done',
    'assignee = currentUser()',
    'project = PD ORDER BY updated DESC',
    'assignee is EMPTY',
    'assignee = EMPTY',
    'updated >= -1d',
    'summary ~ "x"',
    'project in (PD',
    'project = PD AND',
    'project = PD; DROP',
    'cf[10010] = x',
    `project = "${'x'.repeat(1_000)}"`,
  ])('refuses %s', (jql) => expect(isWebhookFilter(jql)).toBe(false));
});

describe('subscription lifecycle against the Jira fake', () => {
  const ALICE = '5b10ac8d82e05b22cc7d4ef5';
  const CLOUD = SEED_SITES.pdeck;
  const SITE: JiraSite = { cloudId: CLOUD, url: 'https://pdeck.atlassian.net', name: 'pdeck' };
  const RESOURCE = { id: CLOUD, name: 'pdeck' };
  let clock = NOW.getTime();
  let fake: JiraFake;
  let receiver: Server;
  let callbackUrl: string;
  let token: string;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    fake = new JiraFake({ now: () => clock, webhooks: { retries: 0 } });
    await fake.start();
    token = fake.issueTokens('alice', DEFAULT_SCOPES).access_token;
    // Where the fake delivers: answers 200; the fake's delivery log keeps what was sent.
    receiver = createServer((req, res) => req.resume().on('end', () => res.writeHead(200).end()));
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/webhooks/jira`;
  });

  afterAll(async () => {
    await fake.stop();
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
  });

  beforeEach(() => {
    fake.webhooks.hooks.clear();
    vi.restoreAllMocks();
  });

  const ctx = (
    settings: Record<string, unknown> = {},
    credentials: ProviderContext['credentials'] = async () => ({
      accessToken: token,
      extras: siteExtras(SITE),
    }),
  ) =>
    standaloneContextFactory({
      providerOrigins: fake.origins(),
    } as unknown as ResolvedAppConfig).create({
      provider: 'jira',
      connectionId: 'conn-alice',
      accountId: ALICE,
      settings,
      credentials,
    });

  const stored = (externalId: string, resourceId: string = CLOUD): StoredWebhookSubscription => ({
    id: 'row-1',
    connectionId: 'conn-alice',
    resourceId,
    externalId,
    externalResourceId: SITE.url,
    secret: null,
    callbackUrl,
    expiresAt: null,
  });

  const only = () => {
    const all = [...fake.webhooks.hooks.values()];
    expect(all).toHaveLength(1);
    return all[0];
  };

  it('registers the issue events with the assignee filter; the id is qualified by the site host', async () => {
    const before = Date.now();
    const sub = await hooks.subscribe(ctx(), RESOURCE, callbackUrl);
    const hook = only();
    expect(hook).toMatchObject({
      cloudId: CLOUD,
      url: callbackUrl,
      events: ['jira:issue_created', 'jira:issue_updated', 'jira:issue_deleted'],
      jqlFilter: `assignee = "${ALICE}"`,
    });
    expect(sub.externalId).toBe(`${hook.id}@pdeck.atlassian.net`);
    expect(sub.externalResourceId).toBe(SITE.url);
    expect(sub.expiresAt!.getTime()).toBeGreaterThanOrEqual(before + WEBHOOK_TTL_MS);
    expect(sub.expiresAt!.getTime()).toBeLessThanOrEqual(Date.now() + WEBHOOK_TTL_MS);
  });

  it('uses a custom JQL that fits the webhook grammar', async () => {
    const jql = 'project = PD AND status != "Done"';
    await hooks.subscribe(ctx({ jql }), RESOURCE, callbackUrl);
    expect(only().jqlFilter).toBe(jql);
  });

  it('falls back to the assignee filter for a custom JQL webhooks cannot take', async () => {
    // statusCategory is a search field, refused in webhook filters (by Jira and by the fake).
    await hooks.subscribe(ctx({ jql: 'statusCategory != Done' }), RESOURCE, callbackUrl);
    expect(only().jqlFilter).toBe(`assignee = "${ALICE}"`);
  });

  it('falls back to the assignee filter when Jira refuses the custom one in its 200 answer', async () => {
    const register = fake.webhooks.register.bind(fake.webhooks);
    const spy = vi
      .spyOn(fake.webhooks, 'register')
      .mockImplementationOnce(() => [{ errors: ['The JQL filter is not supported.'] }])
      .mockImplementation(register);
    await hooks.subscribe(ctx({ jql: 'project = PD' }), RESOURCE, callbackUrl);
    expect(spy.mock.calls.map((c) => c[3][0].jqlFilter)).toEqual([
      'project = PD',
      `assignee = "${ALICE}"`,
    ]);
    expect(only().jqlFilter).toBe(`assignee = "${ALICE}"`);
  });

  it('throws PERMISSION webhook_filter_rejected with the reasons when every filter is refused', async () => {
    vi.spyOn(fake.webhooks, 'register').mockImplementation(() => [
      { errors: ['Webhooks are disabled on this site.'] },
    ]);
    const failure = await hooks
      .subscribe(ctx({ jql: 'project = PD' }), RESOURCE, callbackUrl)
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ProviderError);
    expect(failure).toMatchObject({ code: 'PERMISSION', detail: 'webhook_filter_rejected' });
    expect((failure as Error).message).toContain('Webhooks are disabled on this site.');
    expect(fake.webhooks.hooks.size).toBe(0);
  });

  it('refuses a resource that is not the connection site', async () => {
    const other = hooks.subscribe(ctx(), { id: SEED_SITES.acme, name: 'acme' }, callbackUrl);
    await expect(other).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(fake.webhooks.hooks.size).toBe(0);
  });

  it('a delivery of the fake verifies and routes back to the subscribing connection', async () => {
    const sub = await hooks.subscribe(ctx(), RESOURCE, callbackUrl);
    const issue = fake.createIssue(CLOUD, {
      project: 'PD',
      summary: 'Webhook round trip',
      assignee: 'alice',
    });
    await fake.whenIdle();
    const sent = fake.deliveries().at(-1)!;
    expect(sent.url).toBe(callbackUrl);
    const verified = await hooks.verify(
      { rawBody: Buffer.from(sent.body), headers: sent.headers, url: callbackUrl, query: {} },
      { ...verifyCtx, now: () => new Date(clock) },
    );
    expect(verified).toEqual({
      ok: true,
      deliveryId: sent.headers['x-atlassian-webhook-identifier'],
    });
    const headers = Object.fromEntries(
      hooks.storedHeaders.flatMap((h) => (sent.headers[h] ? [[h, sent.headers[h]]] : [])),
    );
    const events = await hooks.parse(
      { deliveryId: 'd', body: sent.body, headers, receivedAt: new Date(clock) },
      {
        now: () => new Date(clock),
        storedItem: async () => null,
        findSubscription: async () => null,
        findConnections: async (q) =>
          'subscriptionExternalId' in q && q.subscriptionExternalId === sub.externalId
            ? [{ connectionId: 'conn-alice', accountId: ALICE, resourceId: CLOUD }]
            : [],
      },
    );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'items',
      connectionId: 'conn-alice',
      upserts: [
        {
          externalId: issue.id,
          title: 'Webhook round trip',
          url: `https://pdeck.atlassian.net/browse/${issue.key}`,
        },
      ],
    });
  });

  it('renews with the refresh endpoint and stores the expiry Jira answers', async () => {
    const sub = await hooks.subscribe(ctx(), RESOURCE, callbackUrl);
    clock += 10 * 24 * 3600_000;
    token = fake.issueTokens('alice', DEFAULT_SCOPES).access_token; // the old one expired
    const renewed = await hooks.renew(ctx(), stored(sub.externalId));
    expect(renewed).toEqual({
      externalId: sub.externalId,
      externalResourceId: SITE.url,
      expiresAt: new Date(clock + WEBHOOK_TTL_MS),
    });
    expect(only().expirationDate).toBe(clock + WEBHOOK_TTL_MS);
  });

  it('unsubscribes by id; a site that is gone or a dead grant counts as done', async () => {
    const sub = await hooks.subscribe(ctx(), RESOURCE, callbackUrl);
    await hooks.unsubscribe(ctx(), stored(sub.externalId));
    expect(fake.webhooks.hooks.size).toBe(0);
    // The fake answers 404 for a site it does not know.
    await hooks.unsubscribe(ctx(), stored('10000@gone.atlassian.net', 'no-such-cloud'));
    const revoked = async () => {
      throw new ProviderError('AUTH_REVOKED', 'jira: invalid_grant', { provider: 'jira' });
    };
    await hooks.unsubscribe(ctx({}, revoked), stored(sub.externalId));
  });

  it('passes other unsubscribe failures on', async () => {
    fake.rateLimitNext(1);
    await expect(
      hooks.unsubscribe(ctx(), stored('10000@pdeck.atlassian.net')),
    ).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('refuses a malformed subscription id', async () => {
    for (const externalId of ['abc@pdeck.atlassian.net', '10000', '10000@', '@host']) {
      await expect(hooks.renew(ctx(), stored(externalId))).rejects.toMatchObject({
        code: 'UNKNOWN',
      });
      await expect(hooks.unsubscribe(ctx(), stored(externalId))).rejects.toMatchObject({
        code: 'UNKNOWN',
      });
    }
  });
});
