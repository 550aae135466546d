import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TrelloFake } from '../../sandbox/trello/trello.fake.js';
import { trelloWebhookSignature } from '../../sandbox/trello/webhooks.js';
import { TrelloProvider } from '../../src/providers/trello/trello.provider.js';
import { SubscriptionLifecycleService } from '../../src/webhooks/subscription-lifecycle.service.js';
import {
  debugState,
  syncIdle,
  type ContractContext,
  eventually,
} from '@pdeck/integration-sdk/testing';
import { TcpForwarder } from '../support/tcp-forwarder.js';
import { connectAlice, trelloEnv, untilSyncedAndSubscribed } from '../support/trello-e2e-kit.js';
import { freePort, startTestApp, type TestApp } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { flushPrefix } from '../support/test-services.js';

/** Both app instances are one deployment: the same database and the same keys. */
const ENCRYPTION_KEYS = `k1:${randomBytes(32).toString('base64')}`;

/**
 * Which Trello deliveries we keep: only those about a board one of our subscriptions watches
 * (anything else gets 410, so Trello deletes that webhook), verified against the callback URL
 * the webhook was registered with, which survives a change of PUBLIC_URL.
 */
describe('Trello webhook routing, against the sandbox over HTTP', () => {
  let fake: TrelloFake;
  let database: TestDatabase;
  let t: TestApp;
  let ctx: ContractContext;
  /** The first app's port, later the old public URL forwarded to the second app. */
  let oldPort: number;
  let forwarder: TcpForwarder | undefined;
  const prefixes: string[] = [];
  const userId = 'pdeck-trello-routing';
  const debug = () => debugState(ctx);
  const seed = () => fake.seed!;

  function startApp(port: number): Promise<TestApp> {
    return startTestApp({
      port,
      database,
      integrations: [TrelloProvider],
      env: { ...trelloEnv(fake), ENCRYPTION_KEYS },
    });
  }

  beforeAll(async () => {
    fake = new TrelloFake({ webhooks: { baseDelayMs: 50 } });
    await fake.start();
    database = await createTestDatabase(inject('databaseUrl'));
    oldPort = await freePort();
    t = await startApp(oldPort);
    prefixes.push(t.config.redisKeyPrefix);
    const connectionId = await connectAlice(t, userId);
    ctx = { app: t, db: t.app.get(DataSource), userId, connectionId };
    await untilSyncedAndSubscribed(ctx, fake, debug);
  });
  afterAll(async () => {
    await t?.close();
    await forwarder?.stop();
    await fake?.stop();
    for (const prefix of prefixes) await flushPrefix(t.config.redisUrl, prefix);
    await database?.drop();
  });

  const webhookUrl = (port: number) => `http://127.0.0.1:${port}/v1/webhooks/trello`;
  const storedFor = async (boardId: string): Promise<number> =>
    (
      await ctx.db.query(
        'SELECT count(*)::int AS n FROM webhook_deliveries WHERE delivery_id LIKE $1',
        [`${boardId}:%`],
      )
    )[0].n;
  const firstListOf = (boardId: string) => fake.data.listsOf(boardId)[0].id;
  /** Statuses we answered to Trello's attempts for actions on this board. */
  const answersFor = (boardId: string): number[] =>
    fake
      .deliveries(5_000)
      .filter((d) => (JSON.parse(d.body) as { model: { id: string } }).model.id === boardId)
      .map((d) => d.status);

  it('answers 410 to a webhook someone pointed at us for a board we do not watch, keeps nothing', async () => {
    // Anyone with a token for our API key can do this; here Alice's closed board, which we skip.
    const board = seed().boards.closed;
    const rogue = await fake.webhooks.create(fake.issueToken('alice').token, {
      callbackURL: webhookUrl(oldPort),
      idModel: board,
      description: 'not created by the service',
    });
    expect(rogue).toHaveProperty('id');
    fake.createCard(board, { name: 'Someone else', idList: firstListOf(board) });
    await fake.whenIdle();
    const answers = answersFor(board);
    expect(answers.length).toBeGreaterThan(0);
    expect(new Set(answers)).toEqual(new Set([410]));
    expect(await storedFor(board)).toBe(0);

    // A forgery about the same board is still a 401: 410 only for what Trello really sent.
    const body = JSON.stringify({ action: fake.actions(board)[0], model: { id: board } });
    const forged = await fetch(webhookUrl(oldPort), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-trello-webhook': trelloWebhookSignature('not-our-secret', body, webhookUrl(oldPort)),
      },
      body,
    });
    expect(forged.status).toBe(401);

    // Meanwhile the boards we watch are delivered and stored as usual.
    const product = seed().boards.product;
    const before = await storedFor(product);
    fake.createCard(product, { name: 'Ours', idList: seed().lists.todo });
    await fake.whenIdle();
    expect(answersFor(product).at(-1)).toBe(200);
    expect(await storedFor(product)).toBe(before + 1);
  });

  it('keeps verifying webhooks registered before PUBLIC_URL changed; new ones get the new URL', async () => {
    await eventually(() => syncIdle(ctx), 'quiet before the move', { timeoutMs: 15_000, debug });
    await fake.whenIdle();
    // The service moves to a new public URL; the old one still reaches it (a forwarded port).
    await t.close();
    const newPort = await freePort();
    t = await startApp(newPort);
    prefixes.push(t.config.redisKeyPrefix);
    ctx = { ...ctx, app: t, db: t.app.get(DataSource) };
    forwarder = await new TcpForwarder(newPort).start(oldPort);
    expect(t.config.publicUrl).toBe(`http://127.0.0.1:${newPort}`);

    // Trello keeps calling, and signing, the URL each webhook was registered with.
    const product = seed().boards.product;
    const before = await storedFor(product);
    fake.updateCard(seed().cards.release, { name: 'Release 3.0' });
    await fake.whenIdle();
    const [hook] = [...fake.webhooks.hooks.values()].filter((h) => h.idModel === product);
    expect(hook.callbackURL).toBe(webhookUrl(oldPort));
    expect(answersFor(product).at(-1)).toBe(200);
    expect(await storedFor(product)).toBe(before + 1);

    // A board Alice joins later is subscribed at the current URL, and its deliveries verify.
    const launch = fake.data.addBoard('Launch', [fake.data.member('alice').id]);
    const list = fake.data.addList(launch.id, 'Plan');
    expect(
      await t.app.get(SubscriptionLifecycleService).subscribeConnection(ctx.connectionId),
    ).toBe(1);
    const [created] = [...fake.webhooks.hooks.values()].filter((h) => h.idModel === launch.id);
    expect(created.callbackURL).toBe(webhookUrl(newPort));
    const [row] = await ctx.db.query(
      'SELECT callback_url FROM webhook_subscriptions WHERE resource_id = $1',
      [launch.id],
    );
    expect(row.callback_url).toBe(webhookUrl(newPort));
    fake.createCard(launch.id, { name: 'Kick-off', idList: list.id });
    await fake.whenIdle();
    expect(answersFor(launch.id)).toEqual([200]);
    expect(await storedFor(launch.id)).toBe(1);
  });
});
