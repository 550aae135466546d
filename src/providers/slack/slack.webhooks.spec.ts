import { describe, expect, it } from 'vitest';
import type {
  ConnectionQuery,
  RoutedConnection,
  StoredItemState,
  WebhookParseContext,
} from '@pdeck/integration-sdk';
import { signSlackRequest } from './slack.signature.js';
import { SlackWebhooks } from './slack.webhooks.js';

const TEAM = 'T0TEAM0001';
const CHANNEL = 'C0CHAN0001';
const SETTINGS = {
  workspaceUrl: 'https://acme.slack.com/',
  botUserId: 'U0BOT00001',
  authedUserId: 'U0ALICE001',
};
const hooks = new SlackWebhooks();

function context(
  routed: RoutedConnection[],
  stored: Record<string, StoredItemState> = {},
): { ctx: WebhookParseContext; queries: ConnectionQuery[] } {
  const queries: ConnectionQuery[] = [];
  const ctx: WebhookParseContext = {
    findConnections: async (query) => {
      queries.push(query);
      return routed;
    },
    findSubscription: async () => null,
    storedItem: async (_conn, _kind, externalId) => stored[externalId] ?? null,
    now: () => new Date(),
  };
  return { ctx, queries };
}

const conn = (id: string, settings: Record<string, unknown> = SETTINGS): RoutedConnection => ({
  connectionId: id,
  accountId: TEAM,
  resourceId: CHANNEL,
  resourceName: '#general',
  settings,
});

function delivery(event: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const body = JSON.stringify({
    type: 'event_callback',
    team_id: TEAM,
    api_app_id: 'A0APP00001',
    event_id: 'Ev0TEST0001',
    event,
    ...extra,
  });
  return { deliveryId: 'Ev0TEST0001', body, headers: {}, receivedAt: new Date() };
}

describe('Slack Events API: verify', () => {
  const verifyCtx = {
    appSecret: 'signing-secret',
    now: () => new Date(),
    findSubscription: async () => null,
    callbackUrlsFor: async () => [],
  };
  const request = (body: string, secret = 'signing-secret') => {
    const ts = String(Math.floor(Date.now() / 1000));
    return {
      rawBody: Buffer.from(body),
      headers: {
        'x-slack-request-timestamp': ts,
        'x-slack-signature': signSlackRequest(secret, ts, Buffer.from(body)),
      },
      url: 'https://pdeck.example/v1/webhooks/slack',
      query: {},
    };
  };

  it('answers a signed url_verification with the challenge in plain text, stores nothing', async () => {
    const body = JSON.stringify({ token: 't', challenge: 'abc123', type: 'url_verification' });
    expect(await hooks.verify(request(body), verifyCtx)).toEqual({
      ok: true,
      deliveryId: 'url_verification',
      immediateResponse: { status: 200, body: 'abc123', contentType: 'text/plain' },
    });
    expect(await hooks.verify(request(body, 'other'), verifyCtx)).toMatchObject({ ok: false });
  });

  it('names an event by its event_id; a signed body without one is 400, not 401', async () => {
    const body = JSON.stringify({ type: 'event_callback', event_id: 'Ev0ABCDEF12', event: {} });
    expect(await hooks.verify(request(body), verifyCtx)).toEqual({
      ok: true,
      deliveryId: 'Ev0ABCDEF12',
    });
    const missing = JSON.stringify({ type: 'event_callback', event: {} });
    expect(await hooks.verify(request(missing), verifyCtx)).toMatchObject({
      ok: false,
      status: 400,
    });
    expect(await hooks.verify(request('not json'), verifyCtx)).toMatchObject({
      ok: false,
      status: 400,
    });
  });
});

describe('Slack Events API: parse', () => {
  it('routes a message to the connections of the workspace that sync its channel', async () => {
    const { ctx, queries } = context([conn('c1'), conn('c2')]);
    const events = await hooks.parse(
      delivery(
        {
          type: 'message',
          channel: CHANNEL,
          user: 'U0BOB00002',
          text: 'hi <@U0ALICE001>',
          ts: '1700000000.000100',
        },
        { authorizations: [{ team_id: TEAM }, { team_id: 'T0OTHER002' }] },
      ),
      ctx,
    );
    expect(queries).toEqual([
      { accountId: TEAM, resourceId: CHANNEL },
      { accountId: 'T0OTHER002', resourceId: CHANNEL },
    ]);
    expect(events.map((e) => e.connectionId)).toEqual(['c1', 'c2']);
    const [first] = events;
    expect(first).toMatchObject({
      type: 'items',
      upserts: [
        {
          externalId: `${CHANNEL}:1700000000.000100`,
          externalVersion: '1700000000.000100',
          title: 'hi @U0ALICE001',
          containerName: '#general',
          url: 'https://acme.slack.com/archives/C0CHAN0001/p1700000000000100',
        },
      ],
    });
  });

  it('a deletion is a versioned tombstone, kept even for a message never stored', async () => {
    const { ctx } = context([conn('c1')]);
    const [event] = await hooks.parse(
      delivery({
        type: 'message',
        subtype: 'message_deleted',
        channel: CHANNEL,
        deleted_ts: '1700000000.000100',
        ts: '1700000500.000001',
      }),
      ctx,
    );
    expect(event).toMatchObject({
      deletions: [
        {
          kind: 'message',
          externalId: `${CHANNEL}:1700000000.000100`,
          externalVersion: '1700000500.000001',
          tombstoneIfUnknown: true,
        },
      ],
    });
  });

  it('keeps a thread reply only under a stored, live parent; broadcasts always', async () => {
    const reply = {
      type: 'message',
      channel: CHANNEL,
      user: 'U1',
      text: 'r',
      ts: '1700000100.000001',
      thread_ts: '1700000000.000100',
    };
    const parentId = `${CHANNEL}:1700000000.000100`;
    expect(await hooks.parse(delivery(reply), context([conn('c1')]).ctx)).toEqual([]);
    const live = { raw: {}, externalVersion: '1700000000.000100', deleted: false };
    expect(
      await hooks.parse(delivery(reply), context([conn('c1')], { [parentId]: live }).ctx),
    ).toHaveLength(1);
    const gone = { ...live, deleted: true };
    expect(
      await hooks.parse(delivery(reply), context([conn('c1')], { [parentId]: gone }).ctx),
    ).toEqual([]);
    const broadcast = { ...reply, subtype: 'thread_broadcast' };
    expect(await hooks.parse(delivery(broadcast), context([conn('c1')]).ctx)).toHaveLength(1);
  });

  it('ignores channel events that are not messages (joins, topic changes)', async () => {
    const join = {
      type: 'message',
      subtype: 'channel_join',
      channel: CHANNEL,
      user: 'U1',
      ts: '1700000000.000100',
    };
    expect(await hooks.parse(delivery(join), context([conn('c1')]).ctx)).toEqual([]);
  });

  it("the connection's task reaction marks the stored message at the reaction's time; other reactions do nothing", async () => {
    const id = `${CHANNEL}:1700000000.000100`;
    const stored = {
      [id]: {
        raw: {
          type: 'message',
          user: 'U1',
          text: 'do this',
          ts: '1700000000.000100',
          channel: CHANNEL,
        },
        externalVersion: '1700000000.000100',
        deleted: false,
      },
    };
    const reaction = (name: string) => ({
      type: 'reaction_added',
      user: 'U0ALICE001',
      reaction: name,
      item: { type: 'message', channel: CHANNEL, ts: '1700000000.000100' },
      event_ts: '1700000900.000200',
    });
    const [marked] = await hooks.parse(
      delivery(reaction('pdeck')),
      context([conn('c1')], stored).ctx,
    );
    expect(marked).toMatchObject({
      upserts: [
        { externalId: id, labels: ['task-candidate'], externalVersion: '1700000900.000200' },
      ],
    });
    expect(
      await hooks.parse(delivery(reaction('eyes')), context([conn('c1')], stored).ctx),
    ).toEqual([]);
    const custom = conn('c2', { ...SETTINGS, taskEmoji: 'eyes' });
    const [other] = await hooks.parse(
      delivery(reaction('eyes::skin-tone-2')),
      context([custom], stored).ctx,
    );
    expect(other).toMatchObject({ upserts: [{ labels: ['task-candidate'] }] });
  });

  it("tokens_revoked concerns the connections whose user or bot it names; app_uninstalled all of the workspace's", async () => {
    const alice = conn('alice');
    const bob = conn('bob', { ...SETTINGS, authedUserId: 'U0BOB00002', botUserId: 'U0BOT00009' });
    const revoked = { type: 'tokens_revoked', tokens: { oauth: ['U0ALICE001'], bot: [] } };
    const { ctx, queries } = context([alice, bob]);
    expect(await hooks.parse(delivery(revoked), ctx)).toEqual([
      { type: 'grant-revoked', connectionId: 'alice', reason: 'tokens_revoked' },
    ]);
    expect(queries).toEqual([{ accountId: TEAM }]);
    const uninstalled = await hooks.parse(
      delivery({ type: 'app_uninstalled' }),
      context([alice, bob]).ctx,
    );
    expect(uninstalled.map((e) => e.connectionId)).toEqual(['alice', 'bob']);
  });
});
