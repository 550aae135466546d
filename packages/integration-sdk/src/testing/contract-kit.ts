import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionCredentials } from '../contract.js';
import { eventually } from './eventually.js';

/**
 * The provider contract test kit: one suite every integration runs against its own sandbox
 * fake, through the service's public HTTP API (connect, feed, sync, disconnect). What differs per
 * provider (how consent is driven, what the source holds, how a change is made at the source,
 * what a forged delivery looks like, how the fake records a revocation) lives in a
 * ContractHarness; this file knows no provider.
 *
 * Usage, in a vitest file of the integration:
 *
 *   describeProviderContract('my-provider', new MyProviderHarness());
 *
 * The kit runs under vitest (a peer dependency of this entry point).
 */

/** The service's internal API as a client sees it: where it listens and a token it accepts. */
export interface ContractApi {
  baseUrl: string;
  /** A bearer token of INTERNAL_API_TOKENS. */
  apiToken: string;
}

/** Read access to the service's database: the kit checks runs, deliveries and erased rows. */
export interface SqlClient {
  // oxlint-disable-next-line no-explicit-any -- rows are read field by field by the caller.
  query(sql: string, params?: unknown[]): Promise<any[]>;
}

/** The running service under test, as the host's test support hands it over. */
export interface ContractApp extends ContractApi {
  db: SqlClient;
  /** A connection's decrypted credentials (read before a disconnect erases them). */
  credentials(connectionId: string): Promise<ConnectionCredentials>;
}

/** What `start()` brought up. */
export interface ContractStarted {
  /** The service, started with the integration registered and its origins pointing at the fake. */
  app: ContractApp;
  /** The fake's base URL (for messages only). */
  fakeUrl: string;
}

/** Handed to every harness call after connect. */
export interface ContractContext {
  app: ContractApp;
  db: SqlClient;
  userId: string;
  connectionId: string;
}

/** Headers of an authenticated JSON call to the service's internal API. */
export function apiHeaders(api: ContractApi): Record<string, string> {
  return { authorization: `Bearer ${api.apiToken}`, 'content-type': 'application/json' };
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
  connect(app: ContractApp, userId: string): Promise<string>;
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
  /**
   * Sends a delivery with a forged proof of origin (wrong signature or channel token) for a real
   * subscription to /v1/webhooks/:provider; returns the HTTP status (the contract wants 401).
   */
  forgeWebhook(ctx: ContractContext): Promise<number>;
  /** Resolves when the fake has no delivery to the service in flight (retries included). */
  whenIdle(): Promise<void>;
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

/**
 * The connect flow every provider shares, as PDeck and a browser drive it:
 * POST /v1/connections/:provider/authorize -> `consent(authorizeUrl)` at the provider (the
 * harness adds its non-interactive "allow" and returns where the provider redirected) ->
 * GET our callback -> 302 to returnTo?connectionId=&confirm= -> POST .../confirm for the same
 * user, as PDeck's backend does. Returns the connection id.
 */
export async function driveConnect(app: ContractApi, input: ConnectInput): Promise<string> {
  const confirmed = await connectAndConfirm(app, input);
  expect(confirmed.status).toBe('active');
  return confirmed.id;
}

export interface ConnectInput {
  provider: string;
  userId: string;
  returnTo: string;
  /** Follows the provider's authorize URL non-interactively; returns the redirect target. */
  consent: (authorizeUrl: URL) => Promise<URL>;
}

/** The connection as POST .../confirm answers it (pending when a site must still be chosen). */
export interface ConfirmedConnection {
  id: string;
  status: string;
  pendingReason: string | null;
  siteId: string | null;
  accountId: string;
  accountLabel: string;
}

/** driveConnect up to the confirmation's answer, whatever status it leaves the connection in. */
export async function connectAndConfirm(
  app: ContractApi,
  input: ConnectInput,
): Promise<ConfirmedConnection> {
  const start = await fetch(`${app.baseUrl}/v1/connections/${input.provider}/authorize`, {
    method: 'POST',
    headers: apiHeaders(app),
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
  const connectionId = landed.searchParams.get('connectionId') ?? '';
  // Nothing runs before PDeck's backend confirms the grant for the user who started the flow.
  const confirmed = await fetch(`${app.baseUrl}/v1/connections/${connectionId}/confirm`, {
    method: 'POST',
    headers: apiHeaders(app),
    body: JSON.stringify({ userId: input.userId, token: landed.searchParams.get('confirm') }),
  });
  expect(confirmed.status).toBe(200);
  return (await confirmed.json()) as ConfirmedConnection;
}

/**
 * The sandbox fakes' non-interactive consent: `auto=allow` for a seeded `account`, then the one
 * redirect back. `inspect` sees the authorize URL first (to assert on it).
 */
export function autoConsent(
  account: string,
  inspect?: (authorizeUrl: URL) => void,
): (url: URL) => Promise<URL> {
  return (url) => {
    inspect?.(url);
    url.searchParams.set('auto', 'allow');
    url.searchParams.set('account', account);
    return followConsentRedirect(url);
  };
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
export async function readFeed(app: ContractApi, userId: string): Promise<FeedItem[]> {
  const all: FeedItem[] = [];
  let cursor: string | undefined;
  for (;;) {
    const q = new URLSearchParams({ userId, limit: '1000' });
    if (cursor) q.set('cursor', cursor);
    const res = await fetch(`${app.baseUrl}/v1/items?${q}`, { headers: apiHeaders(app) });
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

/** Rows of webhook_deliveries (every provider: the fakes are the only senders). */
export async function deliveryCount(db: SqlClient): Promise<number> {
  const [{ n }] = await db.query('SELECT count(*)::int AS n FROM webhook_deliveries');
  return n;
}

/** True once no stored delivery is still waiting to be processed. */
export async function deliveriesProcessed(db: SqlClient): Promise<true | undefined> {
  const [{ n }] = await db.query(
    "SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'received'",
  );
  return n === 0 ? true : undefined;
}

/**
 * Registers the contract suite. The one shared step is `beforeAll`: it starts the fake and the
 * app, connects through the sandbox consent and waits for the initial sync to end; if any of that
 * fails, every test reports that failure. Each test then needs only that connection, not the
 * outcome of another test, so one failing test does not fail the rest. The disconnect test comes
 * last because it revokes the grant (Google revokes every token of the account with it).
 */
export function describeProviderContract(name: string, harness: ContractHarness): void {
  describe(`provider contract: ${name}`, () => {
    const userId = `contract-user-${Math.random().toString(36).slice(2, 10)}`;
    let ctx: ContractContext;
    const debug = () => debugState(ctx);
    const waitIdle = (what: string) =>
      eventually(() => syncIdle(ctx), what, { timeoutMs: 30_000, debug });

    beforeAll(async () => {
      const { app } = await harness.start();
      const { db } = app;
      const connectionId = await harness.connect(app, userId);
      if (!/^[0-9a-f-]{36}$/.test(connectionId)) {
        throw new Error(`the consent flow returned no connection id (got "${connectionId}")`);
      }
      ctx = { app, db, userId, connectionId };
      await waitIdle('the initial full sync to end');
    });
    afterAll(async () => {
      await harness.stop();
    });

    it('connects through the sandbox consent: the connection is active with the expected account', async () => {
      const res = await fetch(`${ctx.app.baseUrl}/v1/connections/${ctx.connectionId}`, {
        headers: apiHeaders(ctx.app),
      });
      expect(res.status).toBe(200);
      const connection = (await res.json()) as ConnectionBody;
      const expected = harness.expectedAccount();
      expect(connection).toMatchObject({ id: ctx.connectionId, status: 'active', ...expected });
    });

    it('full sync on connect: the live items equal what the source holds', async () => {
      const [first] = await syncRuns(ctx);
      expect(first).toMatchObject({ mode: 'full', trigger: 'connect', status: 'succeeded' });
      // Compare once any change made at the source so far has arrived through its webhook.
      await harness.whenIdle();
      await eventually(() => deliveriesProcessed(ctx.db), 'stored deliveries processed', {
        debug,
      });
      await waitIdle('runs to settle');
      const source = (await harness.sourceItems(ctx)).sort();
      expect(source.length).toBeGreaterThan(0);
      expect(await liveExternalIds(ctx)).toEqual(source);
    });

    it('incremental via webhook: a change at the source is in GET /v1/items within 15 s', async () => {
      const deliveriesBefore = await deliveryCount(ctx.db);
      const change = await harness.mutate(ctx);
      const found = await eventually(
        async () => {
          const item = (await feedState(ctx)).get(change.externalId);
          return item && item.deletedAt === null && item.title === change.title ? item : undefined;
        },
        `${change.externalId} titled "${change.title}" in the feed`,
        { timeoutMs: 15_000, debug },
      );
      expect(found.title).toBe(change.title);
      // Nothing but a webhook can have brought it: schedules are minutes apart.
      expect(await deliveryCount(ctx.db)).toBeGreaterThan(deliveriesBefore);
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
        { timeoutMs: 15_000, debug },
      );
      expect(new Date(tombstone.deletedAt!).getTime()).not.toBeNaN();
    });

    it('a forged webhook is refused with 401, stores nothing and starts no sync run', async () => {
      // Quiet first: nothing in flight from the fake, every stored delivery processed, no run.
      await harness.whenIdle();
      await eventually(() => deliveriesProcessed(ctx.db), 'stored deliveries processed', {
        debug,
      });
      await waitIdle('runs to settle');
      const runsBefore = (await syncRuns(ctx)).length;
      const deliveriesBefore = await deliveryCount(ctx.db);
      expect(await harness.forgeWebhook(ctx)).toBe(401);
      // The receiver decides before it answers: a delivery is stored before its 200 and a
      // refused one never is, and only a stored delivery can start a sync. So the 401 is the
      // sign that handling ended; nothing can appear later.
      expect(await deliveryCount(ctx.db)).toBe(deliveriesBefore);
      expect((await syncRuns(ctx)).length).toBe(runsBefore);
    });

    it('disconnect: 200, credentials erased, subscriptions stopped and the grant revoked at the source', async () => {
      await waitIdle('runs to settle');
      const { app, db } = ctx;
      const credentials = await app.credentials(ctx.connectionId);
      const res = await fetch(`${app.baseUrl}/v1/connections/${ctx.connectionId}`, {
        method: 'DELETE',
        headers: apiHeaders(app),
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
