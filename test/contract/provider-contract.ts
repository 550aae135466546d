import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionStore } from '../../src/auth/connection-store.service.js';
import type { ConnectionCredentials } from '../../src/providers/integration-provider.js';
import { TEST_API_TOKEN, type TestApp } from '../support/test-app.js';

/**
 * The provider contract test kit: one suite every integration runs against its own sandbox
 * fake, through the service's public HTTP API (connect, feed, sync, disconnect). What differs per
 * provider (how consent is driven, what the source holds, how a change is made at the source,
 * what a forged delivery looks like, how the fake records a revocation) lives in a
 * ContractHarness; this file knows no provider.
 *
 * Usage, in test/e2e/<provider>.contract.test.ts:
 *
 *   describeProviderContract('my-provider', new MyProviderHarness());
 */

export const CONTRACT_AUTH = {
  authorization: `Bearer ${TEST_API_TOKEN}`,
  'content-type': 'application/json',
} as const;

/** What `start()` brought up. */
export interface ContractStarted {
  /** The service, started with startTestApp (port, integrations, env pointing at the fake). */
  app: TestApp;
  /** The fake's base URL (for messages only). */
  fakeUrl: string;
}

/** Handed to every harness call after connect. */
export interface ContractContext {
  app: TestApp;
  db: DataSource;
  userId: string;
  connectionId: string;
}

/** The item a source-side change must produce. */
export interface ExpectedChange {
  externalId: string;
  title: string;
}

export interface ContractHarness {
  /** Starts the fake, then the app (with the provider registered); returns both. */
  start(): Promise<ContractStarted>;
  /**
   * Drives POST /v1/connections/:provider/authorize -> the fake's consent (auto allow) -> our
   * callback -> the 302 to returnTo, and returns the connectionId it carried.
   */
  connect(app: TestApp, userId: string): Promise<string>;
  /** The account the seeded sandbox user is known as (accountId of the connection). */
  expectedAccount(): { accountId: string; accountLabel?: string };
  /** External ids the fake holds for every resource the connection syncs (live items only). */
  sourceItems(ctx: ContractContext): Promise<string[]>;
  /**
   * Changes (or creates) an item at the source in a way that reaches us by webhook only.
   * Resolves once the fake has sent (or queued) its delivery.
   */
  mutate(ctx: ContractContext): Promise<ExpectedChange>;
  /** Deletes an item at the source that is currently live in our store; returns its external id. */
  deleteAtSource(ctx: ContractContext): Promise<string>;
  /** Sends a forged delivery to /v1/webhooks/:provider; returns the HTTP status. */
  forgeWebhook(ctx: ContractContext): Promise<number>;
  /**
   * After DELETE /v1/connections/:id: asserts at the fake that the subscriptions are gone and the
   * grant is revoked. `credentials` were read before the disconnect wiped them.
   */
  expectDisconnected(ctx: ContractContext, credentials: ConnectionCredentials): Promise<void>;
  /** Stops the app and the fake (tolerates a failed start). */
  stop(): Promise<void>;
}

/** The fields of a GET /v1/items entry the kit and its users look at. */
export interface FeedItem {
  externalId: string;
  connectionId: string;
  title: string | null;
  status: string | null;
  externalVersion: string;
  deletedAt: string | null;
  changeSeq: string | number;
}

interface ConnectionBody {
  id: string;
  status: string;
  accountId: string;
  accountLabel: string;
  provider: string;
}

const TERMINAL = ['succeeded', 'partial', 'failed'];

/** Polls until `check` returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  ms = 15_000,
  debug?: () => Promise<unknown>,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const state = debug ? ` (state: ${JSON.stringify(await debug())})` : '';
      throw new Error(`timed out after ${ms} ms waiting for ${what}${state}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The connect flow every provider shares, as PDeck and a browser drive it:
 * POST /v1/connections/:provider/authorize -> `consent(authorizeUrl)` at the provider (the
 * harness adds its non-interactive "allow" and returns where the provider redirected) ->
 * GET our callback -> 302 to returnTo?connectionId=. Returns the connection id.
 */
export async function driveConnect(
  app: TestApp,
  input: {
    provider: string;
    userId: string;
    returnTo: string;
    /** Follows the provider's authorize URL non-interactively; returns the redirect target. */
    consent: (authorizeUrl: URL) => Promise<URL>;
  },
): Promise<string> {
  const start = await fetch(`${app.baseUrl}/v1/connections/${input.provider}/authorize`, {
    method: 'POST',
    headers: CONTRACT_AUTH,
    body: JSON.stringify({ userId: input.userId, returnTo: input.returnTo }),
  });
  expect(start.status).toBe(201);
  const { authorizeUrl } = (await start.json()) as { authorizeUrl: string };
  const callback = await input.consent(new URL(authorizeUrl));
  expect(callback.origin).toBe(new URL(app.baseUrl).origin);
  expect(callback.pathname).toBe(`/v1/oauth/${input.provider}/callback`);
  const done = await fetch(callback, { redirect: 'manual' });
  expect(done.status).toBe(302);
  const landed = new URL(done.headers.get('location')!);
  expect(`${landed.origin}${landed.pathname}`).toBe(input.returnTo);
  expect(landed.searchParams.get('error')).toBeNull();
  return landed.searchParams.get('connectionId') ?? '';
}

/** Follows one redirect of a consent URL (`redirect: 'manual'`) and returns its Location. */
export async function followConsentRedirect(url: URL): Promise<URL> {
  const res = await fetch(url, { redirect: 'manual' });
  if (res.status !== 302 && res.status !== 303) {
    throw new Error(`consent answered ${res.status}: ${await res.text()}`);
  }
  return new URL(res.headers.get('location')!);
}

/** The whole changes feed of a user, read page by page from the beginning. */
export async function readFeed(app: TestApp, userId: string): Promise<FeedItem[]> {
  const all: FeedItem[] = [];
  let cursor: string | undefined;
  for (;;) {
    const q = new URLSearchParams({ userId, limit: '1000' });
    if (cursor) q.set('cursor', cursor);
    const res = await fetch(`${app.baseUrl}/v1/items?${q}`, { headers: CONTRACT_AUTH });
    if (res.status !== 200) throw new Error(`GET /v1/items answered ${res.status}`);
    const page = (await res.json()) as { items: FeedItem[]; nextCursor: string; hasMore: boolean };
    all.push(...page.items);
    cursor = page.nextCursor;
    if (!page.hasMore || page.items.length === 0) return all;
  }
}

/** The latest state per external id of one connection, as a feed reader would keep it. */
export async function feedState(ctx: ContractContext): Promise<Map<string, FeedItem>> {
  const latest = new Map<string, FeedItem>();
  for (const item of await readFeed(ctx.app, ctx.userId)) {
    if (item.connectionId === ctx.connectionId) latest.set(item.externalId, item);
  }
  return latest;
}

export async function liveExternalIds(ctx: ContractContext): Promise<string[]> {
  return [...(await feedState(ctx)).values()]
    .filter((i) => i.deletedAt === null)
    .map((i) => i.externalId)
    .sort();
}

export function syncRuns(
  ctx: Pick<ContractContext, 'db' | 'connectionId'>,
): Promise<{ status: string; trigger: string; mode: string }[]> {
  return ctx.db.query(
    'SELECT status, trigger, mode FROM sync_runs WHERE connection_id = $1 ORDER BY created_at',
    [ctx.connectionId],
  );
}

/** True once at least one run exists and every run has ended. */
export async function syncIdle(
  ctx: Pick<ContractContext, 'db' | 'connectionId'>,
): Promise<true | undefined> {
  const runs = await syncRuns(ctx);
  return runs.length > 0 && runs.every((r) => TERMINAL.includes(r.status)) ? true : undefined;
}

export async function debugState(ctx: Pick<ContractContext, 'db' | 'connectionId'>) {
  return {
    runs: await ctx.db.query(
      'SELECT status, trigger, mode, error_code, error_message FROM sync_runs WHERE connection_id = $1 ORDER BY created_at',
      [ctx.connectionId],
    ),
    deliveries: await ctx.db.query(
      'SELECT delivery_id, status, error FROM webhook_deliveries ORDER BY received_at',
    ),
    subscriptions: await ctx.db.query(
      'SELECT resource_id, status FROM webhook_subscriptions WHERE connection_id = $1',
      [ctx.connectionId],
    ),
  };
}

/**
 * Registers the contract suite. The tests run in order and share one connection: connect, full
 * sync, incremental via webhook, deletion, forged webhook, disconnect.
 */
export function describeProviderContract(name: string, harness: ContractHarness): void {
  describe(`provider contract: ${name}`, () => {
    const userId = `contract-user-${Math.random().toString(36).slice(2, 10)}`;
    let ctx: ContractContext;
    let app: TestApp;
    let db: DataSource;
    const debug = () => debugState(ctx);

    beforeAll(async () => {
      ({ app } = await harness.start());
      db = app.app.get(DataSource);
    });
    afterAll(async () => {
      await harness.stop();
    });

    it('connects through the sandbox consent: the connection is active with the expected account', async () => {
      const connectionId = await harness.connect(app, userId);
      expect(connectionId).toMatch(/^[0-9a-f-]{36}$/);
      ctx = { app, db, userId, connectionId };
      const res = await fetch(`${app.baseUrl}/v1/connections/${connectionId}`, {
        headers: CONTRACT_AUTH,
      });
      expect(res.status).toBe(200);
      const connection = (await res.json()) as ConnectionBody;
      const expected = harness.expectedAccount();
      expect(connection).toMatchObject({ id: connectionId, status: 'active', ...expected });
    });

    it('full sync on connect: the live items equal what the source holds', async () => {
      await eventually(() => syncIdle(ctx), 'the initial full sync', 30_000, debug);
      const [first] = await syncRuns(ctx);
      expect(first).toMatchObject({ mode: 'full', trigger: 'connect', status: 'succeeded' });
      const source = (await harness.sourceItems(ctx)).sort();
      expect(source.length).toBeGreaterThan(0);
      expect(await liveExternalIds(ctx)).toEqual(source);
    });

    it('incremental via webhook: a change at the source is in GET /v1/items within 15 s', async () => {
      const [{ n: deliveriesBefore }] = await db.query(
        'SELECT count(*)::int AS n FROM webhook_deliveries',
      );
      const change = await harness.mutate(ctx);
      const found = await eventually(
        async () => {
          const item = (await feedState(ctx)).get(change.externalId);
          return item && item.deletedAt === null && item.title === change.title ? item : undefined;
        },
        `${change.externalId} titled "${change.title}" in the feed`,
        15_000,
        debug,
      );
      expect(found.title).toBe(change.title);
      // Nothing but a webhook can have brought it: schedules are minutes apart.
      const [{ n: deliveriesAfter }] = await db.query(
        'SELECT count(*)::int AS n FROM webhook_deliveries',
      );
      expect(deliveriesAfter).toBeGreaterThan(deliveriesBefore);
      expect((await syncRuns(ctx)).filter((r) => r.trigger === 'manual')).toEqual([]);
    });

    it('deletion at the source becomes a tombstone in the feed', async () => {
      const live = await liveExternalIds(ctx);
      const externalId = await harness.deleteAtSource(ctx);
      expect(live).toContain(externalId);
      const tombstone = await eventually(
        async () => {
          const item = (await feedState(ctx)).get(externalId);
          return item?.deletedAt ? item : undefined;
        },
        `a tombstone for ${externalId}`,
        15_000,
        debug,
      );
      expect(new Date(tombstone.deletedAt!).getTime()).not.toBeNaN();
    });

    it('a forged webhook is refused (401/404) and starts no sync run', async () => {
      await eventually(() => syncIdle(ctx), 'runs to settle', 15_000, debug);
      const runsBefore = (await syncRuns(ctx)).length;
      const [{ n: deliveriesBefore }] = await db.query(
        'SELECT count(*)::int AS n FROM webhook_deliveries',
      );
      const status = await harness.forgeWebhook(ctx);
      expect([401, 404]).toContain(status);
      await new Promise((r) => setTimeout(r, 750));
      expect((await syncRuns(ctx)).length).toBe(runsBefore);
      const [{ n: deliveriesAfter }] = await db.query(
        'SELECT count(*)::int AS n FROM webhook_deliveries',
      );
      expect(deliveriesAfter).toBe(deliveriesBefore);
    });

    it('disconnect: 200, credentials erased, subscriptions stopped and the grant revoked at the source', async () => {
      await eventually(() => syncIdle(ctx), 'runs to settle', 15_000, debug);
      const store = app.app.get(ConnectionStore);
      const credentials = store.credentialsOf(await store.get(ctx.connectionId));
      const res = await fetch(`${app.baseUrl}/v1/connections/${ctx.connectionId}`, {
        method: 'DELETE',
        headers: CONTRACT_AUTH,
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as ConnectionBody & { lastError: string | null };
      // revoke_failed / unsubscribe failures would show here.
      expect(body).toMatchObject({ status: 'disconnected', lastError: null });
      const [row] = await db.query('SELECT status, credentials FROM connections WHERE id = $1', [
        ctx.connectionId,
      ]);
      expect(row).toEqual({ status: 'disconnected', credentials: null });
      const [{ n }] = await db.query(
        'SELECT count(*)::int AS n FROM webhook_subscriptions WHERE connection_id = $1',
        [ctx.connectionId],
      );
      expect(n).toBe(0);
      await harness.expectDisconnected(ctx, credentials);
    });
  });
}
