import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_SLACK, SlackFake } from '../../sandbox/slack/index.js';
import { ConnectionStore } from '../../src/auth/connection-store.service.js';
import { SlackProvider } from '../../src/providers/slack/slack.provider.js';
import {
  type ContractContext,
  deliveriesProcessed,
  deliveryCount,
  feedState,
  type FeedItem,
  eventually,
} from '@pdeck/integration-sdk/testing';
import { connectSlack, slackEnv, useRequestUrl } from '../support/slack-e2e-kit.js';
import { CONTRACT_AUTH, freePort, startTestApp, type TestApp } from '../support/test-app.js';

const { channels, users, team } = SEED_SLACK;
const general = channels.general;

interface Item extends FeedItem {
  body: string | null;
  url: string | null;
  author: string | null;
  labels: string[];
  container: { id: string | null; name: string | null } | null;
}

/**
 * Slack end to end on the sandbox: consent -> confirm -> backfill -> Events API (new, edited,
 * deleted, reacted) -> replays that must not resurrect -> signatures refused -> a 429 honoured ->
 * rotation -> tokens_revoked / app_uninstalled -> needs_reauth. One fake and one app for the file;
 * the tests run in order and share Alice's connection (Bob's only for the uninstall).
 */
describe('Slack on the sandbox', () => {
  let fake: SlackFake;
  let app: TestApp;
  let db: DataSource;
  let alice: ContractContext;
  let bobConnectionId: string;

  const items = async () => (await feedState(alice)) as Map<string, Item>;
  const item = async (externalId: string) => (await items()).get(externalId);
  const settle = async () => {
    await fake.whenIdle();
    await eventually(() => deliveriesProcessed(db), 'stored deliveries processed');
    // Every connection's runs, Bob's too: a run of his during a test would spend his tokens.
    await eventually(
      async () => {
        const [{ n }] = await db.query(
          "SELECT count(*)::int AS n FROM sync_runs WHERE status IN ('queued', 'running')",
        );
        return n === 0 ? true : undefined;
      },
      'runs to settle',
      { timeoutMs: 30_000 },
    );
  };
  const requestSync = async (mode: 'full' | 'incremental') => {
    const res = await fetch(`${app.baseUrl}/v1/connections/${alice.connectionId}/sync`, {
      method: 'POST',
      headers: CONTRACT_AUTH,
      body: JSON.stringify({ mode }),
    });
    expect(res.status).toBe(202);
  };
  const connection = async (id: string) => {
    const res = await fetch(`${app.baseUrl}/v1/connections/${id}`, { headers: CONTRACT_AUTH });
    return (await res.json()) as { status: string; lastError: string | null };
  };

  beforeAll(async () => {
    fake = new SlackFake({ historyTier: 'tier3', retryDelaysMs: [200, 400, 800] });
    await fake.start();
    app = await startTestApp({
      port: await freePort(),
      integrations: [SlackProvider],
      env: slackEnv(fake),
    });
    db = app.app.get(DataSource);
    await useRequestUrl(fake, app);
    const userId = `slack-user-${Date.now()}`;
    const confirmed = await connectSlack(app, userId, 'alice');
    alice = { app, db, userId, connectionId: confirmed.id };
    bobConnectionId = (await connectSlack(app, `slack-bob-${Date.now()}`, 'bob')).id;
    await settle();
  });
  afterAll(async () => {
    await app?.close();
    await fake?.stop();
  });

  it('stores the bot token and the user token apart, each with its scopes, and never shows them', async () => {
    const store = app.app.get(ConnectionStore);
    const row = await store.get(alice.connectionId);
    const creds = store.credentialsOf(row);
    expect(creds.accessToken).toMatch(/^xoxe\.xoxb-/);
    expect(creds.refreshToken).toMatch(/^xoxe-1-/);
    expect(creds.scope).toContain('channels:history');
    expect(creds.linked?.user?.accessToken).toMatch(/^xoxe\.xoxp-/);
    expect(creds.linked?.user?.refreshToken).toMatch(/^xoxe-1-/);
    expect(creds.linked?.user?.scope).toContain('im:history');
    expect(creds.extras).toMatchObject({
      teamId: team.id,
      botUserId: users.bot,
      authedUserId: users.alice,
      workspaceUrl: 'https://pdeck-sandbox.slack.com/',
    });
    expect(row.settings).toMatchObject({ workspaceUrl: 'https://pdeck-sandbox.slack.com/' });
    const res = await fetch(`${app.baseUrl}/v1/connections/${alice.connectionId}`, {
      headers: CONTRACT_AUTH,
    });
    const text = await res.text();
    for (const secret of fake.issuedSecrets()) expect(text).not.toContain(secret);
  });

  it('backfills readable messages: mentions and links rendered, authors, permalinks, threads, the task reaction', async () => {
    const all = [...(await items()).values()].filter((i) => !i.deletedAt);
    const mention = all.find((i) => i.body?.includes('@bob'));
    expect(mention, 'a message mentioning Bob').toBeDefined();
    expect(mention!.body).not.toMatch(/<@U/);
    expect(all.some((i) => i.body?.includes('(https://example.com/spec)'))).toBe(true);
    expect(all.every((i) => !/&amp;|&lt;|&gt;/.test(i.body ?? ''))).toBe(true);
    const inGeneral = all.filter((i) => i.container?.id === general);
    expect(inGeneral[0].container?.name).toBe('#general');
    for (const i of inGeneral) {
      expect(i.url).toMatch(/^https:\/\/pdeck-sandbox\.slack\.com\/archives\/C0GENERAL1\/p\d{16}/);
      expect(i.author).toBeTruthy();
    }
    // Replies carry their thread in the link.
    const replies = fake.data.messages(general, { includeReplies: true }).filter((m) => m.threadTs);
    const reply = await item(`${general}:${replies[0].ts}`);
    expect(reply?.url).toContain(`?thread_ts=${replies[0].threadTs}&cid=${general}`);
    // The seeded message with Alice's :pdeck: reaction is a task candidate, the others are not.
    const reacted = fake.data
      .messages(general)
      .filter((m) => m.reactions.some((r) => r.name === 'pdeck'));
    expect(reacted).toHaveLength(1);
    expect((await item(`${general}:${reacted[0].ts}`))?.labels).toEqual(['task-candidate']);
    expect(inGeneral.filter((i) => i.labels.includes('task-candidate'))).toHaveLength(1);
    // Bob's private channel and the archived one are nobody's business here.
    expect(all.some((i) => i.container?.id === channels.hr)).toBe(false);
    expect(all.some((i) => i.container?.id === channels.archive)).toBe(false);
  });

  it('edits, reactions and deletions arrive as events', async () => {
    const posted = fake.postMessage(general, {
      user: users.bob,
      text: 'Draft: ship it <@U0ALICE001>',
    });
    const id = `${general}:${posted.ts}`;
    // Events carry user ids, not names: a mention shows its id (a backfill shows the name).
    await eventually(
      async () => (await item(id))?.title === 'Draft: ship it @U0ALICE001' || undefined,
      'the new message',
    );
    // History read later resolves the name, once (its copy sorts after the event's), from the
    // names the backfill kept in the conversation's cursor: #general looks nobody up again.
    const lookups = fake.counters.calls['users.info'] ?? 0;
    expect(lookups).toBeGreaterThan(0);
    await requestSync('incremental');
    await eventually(
      async () => (await item(id))?.title === 'Draft: ship it @alice' || undefined,
      'the name resolved by the incremental sync',
      { timeoutMs: 30_000 },
    );
    // Only the listing names Alice's one direct-message partner again (one lookup per DM).
    expect(fake.counters.calls['users.info'] ?? 0).toBe(lookups + 1);
    fake.editMessage(general, posted.ts, 'Final: ship it');
    await eventually(
      async () => (await item(id))?.title === 'Final: ship it' || undefined,
      'the edit',
    );
    fake.addReaction(general, posted.ts, 'pdeck', users.alice);
    await eventually(
      async () => (await item(id))?.labels.includes('task-candidate') || undefined,
      'the task label',
    );
    // Another reaction is not ours; removing ours clears the label.
    fake.addReaction(general, posted.ts, 'eyes', users.bob);
    fake.removeReaction(general, posted.ts, 'pdeck', users.alice);
    await eventually(
      async () => (await item(id))?.labels.length === 0 || undefined,
      'the label removed',
    );
    expect((await item(id))?.title).toBe('Final: ship it');
    fake.deleteMessage(general, posted.ts);
    await eventually(async () => (await item(id))?.deletedAt || undefined, 'the tombstone');
  });

  it('a replayed deletion and then a replayed creation never bring a message back', async () => {
    const posted = fake.postMessage(general, { user: users.bob, text: 'Here today' });
    const id = `${general}:${posted.ts}`;
    await eventually(async () => (await item(id)) || undefined, 'the message');
    fake.deleteMessage(general, posted.ts);
    const tombstone = await eventually(
      async () => ((await item(id))?.deletedAt ? await item(id) : undefined),
      'the tombstone',
    );
    await settle();
    const sent = fake.events.sent().filter((s) => s.body.includes(posted.ts));
    const creation = sent.find((s) => s.type === 'message' && !s.body.includes('message_deleted'))!;
    const deletion = sent.find((s) => s.body.includes('message_deleted'))!;
    // Slack's own retries: the same event ids, deduplicated on arrival.
    expect(
      await fake.events.replay(deletion.eventId, { retryNum: 1, reason: 'http_timeout' }),
    ).toBe(200);
    expect(
      await fake.events.replay(creation.eventId, { retryNum: 2, reason: 'http_timeout' }),
    ).toBe(200);
    // The creation again under a new event id: stored, and refused by its older version.
    const fresh = creation.body.replace(creation.eventId, `EvREPLAY${Date.now()}`);
    expect(await fake.events.sendSigned(fresh)).toBe(200);
    await settle();
    const after = await item(id);
    expect(after?.deletedAt).toBeTruthy();
    expect(after?.changeSeq).toBe(tombstone.changeSeq);
  });

  it('a deletion processed before its creation keeps the message deleted', async () => {
    const ts = `${Math.floor(Date.now() / 1000)}.424242`;
    const envelope = (eventId: string, event: Record<string, unknown>) =>
      JSON.stringify({
        type: 'event_callback',
        team_id: team.id,
        api_app_id: fake.apps[0].appId,
        event_id: eventId,
        event_time: Math.floor(Date.now() / 1000),
        event,
      });
    const deletedAt = `${Math.floor(Date.now() / 1000) + 5}.000001`;
    expect(
      await fake.events.sendSigned(
        envelope(`EvDEL${Date.now()}`, {
          type: 'message',
          subtype: 'message_deleted',
          hidden: true,
          channel: general,
          deleted_ts: ts,
          ts: deletedAt,
          event_ts: deletedAt,
        }),
      ),
    ).toBe(200);
    await settle();
    expect(
      await fake.events.sendSigned(
        envelope(`EvNEW${Date.now()}`, {
          type: 'message',
          channel: general,
          user: users.bob,
          text: 'late',
          ts,
          event_ts: ts,
        }),
      ),
    ).toBe(200);
    await settle();
    expect((await item(`${general}:${ts}`))?.deletedAt).toBeTruthy();
  });

  it('refuses forged, stale (-600 s) and future (+600 s) signatures with 401 and stores nothing', async () => {
    await settle();
    const before = await deliveryCount(db);
    const body = JSON.stringify({
      type: 'event_callback',
      team_id: team.id,
      event_id: `EvSIG${Date.now()}`,
      event: { type: 'message', channel: general, user: users.bob, text: 'x', ts: '1.000001' },
    });
    const now = Math.floor(Date.now() / 1000);
    expect(await fake.events.sendSigned(body, { secret: 'another-secret' })).toBe(401);
    expect(await fake.events.sendSigned(body, { timestamp: now - 600 })).toBe(401);
    expect(await fake.events.sendSigned(body, { timestamp: now + 600 })).toBe(401);
    expect(
      await fake.events.sendSigned(body, { headers: { 'x-slack-signature': 'v0=nothex' } }),
    ).toBe(401);
    expect(await deliveryCount(db)).toBe(before);
    // Signed correctly, the same body is accepted: the refusals were about the signature.
    expect(await fake.events.sendSigned(body)).toBe(200);
  });

  it('answers url_verification with the challenge, only when signed', async () => {
    const body = JSON.stringify({
      token: 'x',
      challenge: 'c4ll3nge_value',
      type: 'url_verification',
    });
    const res = await fetch(`${app.baseUrl}/v1/webhooks/slack`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(401);
    expect(await fake.setRequestUrl(`${app.baseUrl}/v1/webhooks/slack`)).toMatchObject({
      ok: true,
    });
  });

  it('checks settings: the task emoji and the backfill window, not the service-set keys', async () => {
    const patch = (body: unknown) =>
      fetch(`${app.baseUrl}/v1/connections/${alice.connectionId}/settings`, {
        method: 'PATCH',
        headers: CONTRACT_AUTH,
        body: JSON.stringify(body),
      });
    const bad = await patch({
      taskEmoji: ':pdeck:',
      backfillDays: 0,
      workspaceUrl: 'https://evil.example/',
    });
    expect(bad.status).toBe(400);
    const { message } = (await bad.json()) as { message: string[] };
    expect(message).toHaveLength(3);
    expect((await patch({ taskEmoji: 'white_check_mark', backfillDays: 14 })).status).toBe(200);
    expect((await patch({ taskEmoji: 'pdeck' })).status).toBe(200);
  });

  it('honours a 429 on conversations.history: that method waits Retry-After, the sync then completes', async () => {
    await settle();
    fake.forceRateLimit('conversations.history', 2);
    await requestSync('full');
    await eventually(
      async () => {
        const [run] = await db.query(
          `SELECT status FROM sync_runs WHERE connection_id = $1 AND trigger = 'manual' ORDER BY created_at DESC LIMIT 1`,
          [alice.connectionId],
        );
        return run?.status === 'succeeded' || undefined;
      },
      'the manual run to succeed',
      { timeoutMs: 30_000 },
    );
    const history = fake.server.log
      .recent(2000)
      .filter((r) => r.path === '/api/conversations.history');
    const limited = history.findIndex((r) => r.status === 429);
    expect(limited).toBeGreaterThanOrEqual(0);
    const next = history[limited + 1];
    expect(Date.parse(next.at) - Date.parse(history[limited].at)).toBeGreaterThanOrEqual(2_000);
  }, 60_000);

  it("disconnecting Bob while Alice stays revokes Bob's user token only: the workspace's bot token stays", async () => {
    const store = app.app.get(ConnectionStore);
    const bob = store.credentialsOf(await store.get(bobConnectionId));
    const res = await fetch(`${app.baseUrl}/v1/connections/${bobConnectionId}`, {
      method: 'DELETE',
      headers: CONTRACT_AUTH,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'disconnected', lastError: null });
    expect(fake.data.tokenInfo(bob.linked!.user!.accessToken)?.revoked).toBe(true);
    expect(fake.data.tokenInfo(bob.accessToken)?.revoked).toBe(false);
    expect((await connection(alice.connectionId)).status).toBe('active');
    // Bob comes back for the last test.
    bobConnectionId = (await connectSlack(app, `slack-bob-${Date.now()}`, 'bob')).id;
  });

  it('refreshes expired rotating tokens, bot and user, once each and never reuses a refresh token', async () => {
    await settle();
    const store = app.app.get(ConnectionStore);
    const before = store.credentialsOf(await store.get(alice.connectionId));
    const refreshes = fake.counters.tokenRequests.refresh_token ?? 0;
    fake.data.tokens.expireAccessTokens();
    await requestSync('full');
    await eventually(
      async () => {
        const c = store.credentialsOf(await store.get(alice.connectionId));
        return c.accessToken !== before.accessToken &&
          c.linked?.user?.accessToken !== before.linked?.user?.accessToken
          ? c
          : undefined;
      },
      'both tokens refreshed',
      { timeoutMs: 30_000 },
    );
    await settle();
    expect(fake.counters.refreshReuse).toBe(0);
    expect((fake.counters.tokenRequests.refresh_token ?? 0) - refreshes).toBe(2);
    expect((await connection(alice.connectionId)).status).toBe('active');
  }, 60_000);

  it('tokens_revoked for Alice moves only her connection to needs_reauth; app_uninstalled then Bob too', async () => {
    fake.revokeTokens(team.id, { userIds: [users.alice] });
    await eventually(
      async () => (await connection(alice.connectionId)).status === 'needs_reauth' || undefined,
      'Alice needs_reauth',
    );
    expect((await connection(alice.connectionId)).lastError).toBe('tokens_revoked');
    expect((await connection(bobConnectionId)).status).toBe('active');
    fake.uninstall(team.id);
    await eventually(
      async () => (await connection(bobConnectionId)).status === 'needs_reauth' || undefined,
      'Bob needs_reauth',
    );
    expect((await connection(bobConnectionId)).lastError).toBe('app_uninstalled');
  });
});
