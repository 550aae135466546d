import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoggedRequest } from '@pdeck/integration-sdk/sandbox';
import { SANDBOX_TRELLO_APP, TrelloFake } from '../../sandbox/trello/trello.fake.js';
import { trelloWebhookSignature } from '../../sandbox/trello/webhooks.js';
import { ConnectionStore } from '../../src/auth/connection-store.service.js';
import { TrelloProvider } from '../../src/providers/trello/trello.provider.js';
import {
  debugState,
  feedState,
  liveExternalIds,
  syncIdle,
  syncRuns,
  type ContractContext,
  eventually,
} from '@pdeck/integration-sdk/testing';
import { connectAlice, trelloEnv, untilSyncedAndSubscribed } from '../support/trello-e2e-kit.js';
import { CONTRACT_AUTH, freePort, startTestApp, type TestApp } from '../support/test-app.js';

const APP = SANDBOX_TRELLO_APP;

/**
 * Trello specifics beyond the provider contract (test/e2e/trello.contract.test.ts): signed
 * deliveries and the ways a forgery can look authentic, the HEAD probe, archived cards swept by
 * a full pass, 429 handling without a storm, and what disconnect leaves at Trello.
 */
describe('Trello end to end, against the sandbox over HTTP', () => {
  let fake: TrelloFake;
  let t: TestApp;
  let ctx: ContractContext;
  const userId = 'pdeck-trello-user';
  const debug = () => debugState(ctx);
  const webhookUrl = () => `${t.baseUrl}/v1/webhooks/trello`;
  const seed = () => fake.seed!;

  beforeAll(async () => {
    fake = new TrelloFake({ webhooks: { baseDelayMs: 50 } });
    await fake.start();
    t = await startTestApp({
      port: await freePort(),
      integrations: [TrelloProvider],
      env: trelloEnv(fake),
    });
    const connectionId = await connectAlice(t, userId);
    ctx = { app: t, db: t.app.get(DataSource), userId, connectionId };
    await untilSyncedAndSubscribed(ctx, fake, debug);
  });
  afterAll(async () => {
    await t?.close();
    await fake?.stop();
  });

  const item = async (externalId: string) => (await feedState(ctx)).get(externalId);
  const deliveryCount = async (): Promise<number> =>
    (await ctx.db.query('SELECT count(*)::int AS n FROM webhook_deliveries'))[0].n;

  /** A delivery as Trello would send it for the newest action on a board. */
  function deliveryFor(boardId: string): string {
    const board = fake.data.board(boardId);
    const [action] = fake.actions(boardId);
    return JSON.stringify({ action, model: { id: board.id, name: board.name } });
  }
  function post(body: string, signature: string, url = webhookUrl()): Promise<Response> {
    return fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-trello-webhook': signature },
      body,
    });
  }

  it('subscribed one webhook per open board at our callback URL, after a HEAD probe', async () => {
    const hooks = [...fake.webhooks.hooks.values()];
    expect(hooks.map((h) => h.idModel).sort()).toEqual(
      [seed().boards.product, seed().boards.personal].sort(),
    );
    expect(hooks.every((h) => h.callbackURL === webhookUrl())).toBe(true);
    expect(trelloStats().webhooks.probeFailures).toBe(0);
    const [{ n }] = await ctx.db.query(
      "SELECT count(*)::int AS n FROM webhook_subscriptions WHERE connection_id = $1 AND status = 'active'",
      [ctx.connectionId],
    );
    expect(n).toBe(2);
    // Key and token only ever travel in the Authorization header.
    expect(trelloStats().queryCredentials).toBe(0);
  });

  it('answers the HEAD probe with 200', async () => {
    const res = await fetch(webhookUrl(), { method: 'HEAD' });
    expect(res.status).toBe(200);
  });

  it('applies a card update delivered by a signed webhook', async () => {
    const cardId = seed().cards.release;
    fake.updateCard(cardId, { name: 'Release 2.5', dueComplete: true });
    const updated = await eventually(
      async () => {
        const i = await item(cardId);
        return i?.title === 'Release 2.5' && i.status === 'done' ? i : undefined;
      },
      'the updated card in the feed',
      { timeoutMs: 15_000, debug },
    );
    expect(updated.deletedAt).toBeNull();
    await fake.whenIdle();
    // Every delivery was accepted on the first try.
    expect(fake.deliveries().every((d) => d.status === 200)).toBe(true);
    expect((await syncRuns(ctx)).some((r) => r.trigger === 'webhook')).toBe(true);
  });

  it('turns a deleteCard delivery into a tombstone versioned by the action date', async () => {
    const cardId = seed().cards.metrics;
    expect((await item(cardId))?.deletedAt).toBeNull();
    const action = fake.deleteCard(cardId);
    const gone = await eventually(
      async () => {
        const i = await item(cardId);
        return i?.deletedAt ? i : undefined;
      },
      'the tombstone',
      { timeoutMs: 15_000, debug },
    );
    expect(gone.externalVersion).toBe(action.date);
  });

  it('refuses a delivery signed with another secret (401) and stores nothing', async () => {
    await fake.whenIdle(); // no genuine delivery in flight while we count
    const before = await deliveryCount();
    const body = deliveryFor(seed().boards.product);
    expect(
      (await post(body, trelloWebhookSignature('wrong-secret', body, webhookUrl()))).status,
    ).toBe(401);
    expect((await post(body, 'bm90IGEgc2lnbmF0dXJl')).status).toBe(401);
    expect(
      (
        await fetch(webhookUrl(), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        })
      ).status,
    ).toBe(401);
    expect(await deliveryCount()).toBe(before);
  });

  it('refuses a body signed for another callback URL (401)', async () => {
    await fake.whenIdle();
    const before = await deliveryCount();
    const body = deliveryFor(seed().boards.product);
    for (const other of [
      `${webhookUrl()}?connection=someone-else`,
      'https://attacker.example/v1/webhooks/trello',
      `${t.baseUrl}/v1/webhooks/trello/`,
    ]) {
      expect((await post(body, trelloWebhookSignature(APP.secret, body, other))).status).toBe(401);
    }
    expect(await deliveryCount()).toBe(before);
  });

  it('refuses a re-serialized body signed for the original bytes (401), accepts the original', async () => {
    // The seeded "Café menu → review" card: non-ASCII, so \u escapes are a re-serialization too.
    const board = fake.data.board(seed().boards.product);
    const action = fake
      .actions(board.id)
      .find(
        (a) =>
          a.type === 'createCard' && /Café/.test(String((a.data.card as { name?: string })?.name)),
      )!;
    expect(action).toBeDefined();
    const original = JSON.stringify({ action, model: { id: board.id, name: board.name } });
    const signature = trelloWebhookSignature(APP.secret, original, webhookUrl());
    const parsed = JSON.parse(original) as Record<string, unknown>;
    const variants = [
      JSON.stringify(parsed, null, 2),
      `${original}\n`,
      JSON.stringify({ model: parsed.model, action: parsed.action }),
      original.replace(
        /[\u0080-\uffff]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
      ),
    ];
    await fake.whenIdle();
    const before = await deliveryCount();
    for (const body of variants) {
      expect(body).not.toBe(original);
      expect(JSON.parse(body)).toEqual(parsed);
      expect((await post(body, signature)).status).toBe(401);
    }
    expect(await deliveryCount()).toBe(before);
    // Control: the very bytes that were signed are accepted.
    expect((await post(original, signature)).status).toBe(200);
    expect(await deliveryCount()).toBe(before + 1);
    await eventually(() => syncIdle(ctx), 'runs to settle', { timeoutMs: 15_000, debug });
  });

  it('tombstones an archived card through the full-sync sweep', async () => {
    const cardId = seed().cards.cafe;
    expect((await item(cardId))?.deletedAt).toBeNull();
    // Archived without a delivery reaching us (as when Trello gave up on a webhook): only the
    // sweep of a full pass can notice, because cards/open simply stops listing the card.
    const deliver = fake.data.onAction;
    fake.data.onAction = () => undefined;
    try {
      fake.archiveCard(cardId);
    } finally {
      fake.data.onAction = deliver;
    }
    const token = fake.issueToken('alice').token;
    const open = (await (
      await fetch(`${fake.url}/1/boards/${seed().boards.product}/cards/open`, {
        headers: { authorization: `OAuth oauth_consumer_key="${APP.key}", oauth_token="${token}"` },
      })
    ).json()) as { id: string }[];
    expect(open.map((c) => c.id)).not.toContain(cardId);
    expect((await item(cardId))?.deletedAt).toBeNull();

    const runsBefore = (await syncRuns(ctx)).length;
    const res = await fetch(`${t.baseUrl}/v1/connections/${ctx.connectionId}/sync`, {
      method: 'POST',
      headers: CONTRACT_AUTH,
      body: JSON.stringify({ mode: 'full' }),
    });
    expect(res.status).toBe(202);
    await eventually(
      async () => ((await syncRuns(ctx)).length > runsBefore ? syncIdle(ctx) : undefined),
      'the full sync',
      { timeoutMs: 20_000, debug },
    );
    expect((await syncRuns(ctx)).at(-1)).toMatchObject({
      mode: 'full',
      trigger: 'manual',
      status: 'succeeded',
    });
    expect((await item(cardId))?.deletedAt).not.toBeNull();
    // Everything else still matches the source.
    const source = [seed().boards.product, seed().boards.personal]
      .flatMap((b) => fake.data.cardsOf(b))
      .filter((c) => !c.closed)
      .map((c) => c.id)
      .sort();
    expect(await liveExternalIds(ctx)).toEqual(source);
  });

  /** Requests a full sync and waits until it (and whatever it triggered) has succeeded. */
  async function fullSyncToTheEnd(what: string, ms: number): Promise<void> {
    const runsBefore = (await syncRuns(ctx)).length;
    const res = await fetch(`${t.baseUrl}/v1/connections/${ctx.connectionId}/sync`, {
      method: 'POST',
      headers: CONTRACT_AUTH,
      body: JSON.stringify({ mode: 'full' }),
    });
    expect(res.status).toBe(202);
    await eventually(
      async () => ((await syncRuns(ctx)).length > runsBefore ? syncIdle(ctx) : undefined),
      what,
      { timeoutMs: ms, debug },
    );
    expect((await syncRuns(ctx)).at(-1)).toMatchObject({ mode: 'full', status: 'succeeded' });
  }

  it('respects a 429 burst: the sync finishes, waits out the window after each 429, no storm', async () => {
    await eventually(() => syncIdle(ctx), 'quiet before the burst', { timeoutMs: 15_000, debug });
    const apiLog = () =>
      fake.server.log
        .recent(2000)
        .filter((e) => e.path.startsWith('/1/') && !e.path.startsWith('/1/OAuth'));
    const seen = new Set(apiLog());
    const rejectedBefore = rejected();
    fake.rateLimitNext(3, 'API_KEY_LIMIT_EXCEEDED');
    await fullSyncToTheEnd('the rate-limited sync to finish', 75_000);

    const calls: LoggedRequest[] = apiLog().filter((e) => !seen.has(e));
    const limited = calls.filter((e) => e.status === 429);
    // The three forced 429s and not one more: nobody kept hammering a limited key.
    expect(limited).toHaveLength(3);
    expect(rejected() - rejectedBefore).toBe(3);
    const startOf = (e: LoggedRequest) => Date.parse(e.at) - e.ms;
    const endOf = (e: LoggedRequest) => Date.parse(e.at);
    for (const hit of limited) {
      // Requests already in flight when the 429 came back are not "after" it.
      const after = calls.filter((e) => startOf(e) > endOf(hit));
      expect(after.length).toBeGreaterThan(0);
      const next = Math.min(...after.map(startOf));
      // Trello's windows are 10 s; allow the log's millisecond rounding.
      expect(next - endOf(hit)).toBeGreaterThanOrEqual(10_000 - 5);
    }
    expect(await liveExternalIds(ctx)).toEqual(
      [seed().boards.product, seed().boards.personal]
        .flatMap((b) => fake.data.cardsOf(b))
        .filter((c) => !c.closed)
        .map((c) => c.id)
        .sort(),
    );
  }, 90_000);

  it('resumes a sync limited on a board with the boards still to do, without listing again', async () => {
    await eventually(() => syncIdle(ctx), 'quiet before the limit', { timeoutMs: 15_000, debug });
    const seen = new Set(fake.server.log.recent(2000));
    // The first board call of the run answers 429 (per-token limit): the listing already ran.
    fake.server.addFault({
      status: 429,
      path: '/1/boards/',
      body: { error: 'API_TOKEN_LIMIT_EXCEEDED', message: 'Rate limit exceeded' },
    });
    await fullSyncToTheEnd('the limited sync to finish', 45_000);
    const calls = fake.server.log.recent(2000).filter((e) => !seen.has(e));
    expect(calls.filter((e) => e.status === 429)).toHaveLength(1);
    // One listing for the whole run (Trello: 100 /members calls per 15 min per token).
    expect(calls.filter((e) => e.path === '/1/members/me/boards')).toHaveLength(1);
  }, 60_000);

  it('disconnect deletes the webhooks at Trello, then revokes the token', async () => {
    await eventually(() => syncIdle(ctx), 'quiet before disconnect', { timeoutMs: 15_000, debug });
    const store = t.app.get(ConnectionStore);
    const { accessToken } = store.credentialsOf(await store.get(ctx.connectionId));
    const hookIds = fake.webhooks.ofToken(accessToken).map((h) => h.id);
    expect(hookIds).toHaveLength(2);
    const logStart = fake.server.log.recent(2000).length;
    const res = await fetch(`${t.baseUrl}/v1/connections/${ctx.connectionId}`, {
      method: 'DELETE',
      headers: CONTRACT_AUTH,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'disconnected', lastError: null });
    const calls = fake.server.log.recent(2000).slice(logStart);
    const deletes = calls.filter((e) => e.method === 'DELETE');
    // Our own DELETE /1/webhooks/{id} (200 each), not Trello dropping them with the token...
    expect(
      deletes
        .filter((e) => e.path.startsWith('/1/webhooks/'))
        .map((e) => [e.path.slice('/1/webhooks/'.length), e.status])
        .sort(),
    ).toEqual(hookIds.map((id) => [id, 200]).sort());
    // ...then DELETE /1/tokens/{token}.
    const revoke = deletes.filter((e) => e.path.startsWith('/1/tokens/'));
    expect(revoke.map((e) => e.status)).toEqual([200]);
    expect(fake.webhooks.hooks.size).toBe(0);
    expect(fake.oauth.tokens.get(accessToken)?.revoked).toBe(true);
    const [row] = await ctx.db.query('SELECT status, credentials FROM connections WHERE id = $1', [
      ctx.connectionId,
    ]);
    expect(row).toEqual({ status: 'disconnected', credentials: null });
  });

  function trelloStats() {
    return (
      fake.stats() as {
        trello: {
          webhooks: { probeFailures: number };
          queryCredentials: number;
          rateLimits: { rejected: { total: number } };
        };
      }
    ).trello;
  }
  function rejected(): number {
    return trelloStats().rateLimits.rejected.total;
  }
});
