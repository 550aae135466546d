import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JiraFake, SEED_SITES, signJwt } from '../../sandbox/jira/index.js';
import { ConnectionStore } from '../../src/auth/connection-store.service.js';
import { TokenService } from '../../src/auth/token.service.js';
import { JiraProvider } from '../../src/providers/jira/jira.provider.js';
import {
  debugState,
  feedState,
  liveExternalIds,
  syncIdle,
  type ContractContext,
  eventually,
} from '@pdeck/integration-sdk/testing';
import { connectJira, jiraEnv, scopeIssueIds } from '../support/jira-e2e-kit.js';
import { CONTRACT_AUTH, freePort, startTestApp, type TestApp } from '../support/test-app.js';

const ALICE = '5b10ac8d82e05b22cc7d4ef5';
const BOB = '5b10a2844c20165700ede21g';

/**
 * Alice, whose grant reaches a Confluence-only site and two Jira sites, end to end against the
 * Jira fake: the site choice, the import, webhook updates and deletions, forged JWTs, rotating
 * refresh tokens, a 429 and the disconnect.
 */
describe('Jira Cloud end to end (sandbox fake)', () => {
  const userId = `jira-user-${randomUUID().slice(0, 8)}`;
  let fake: JiraFake;
  let app: TestApp;
  let ctx: ContractContext;
  const debug = () => debugState(ctx);
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${app.baseUrl}${path}`, { ...init, headers: CONTRACT_AUTH });
  const idle = () =>
    eventually(() => syncIdle(ctx), 'sync runs to end', { timeoutMs: 30_000, debug });
  const clientId = () => fake.apps[0].clientId;

  beforeAll(async () => {
    fake = new JiraFake({ webhooks: { baseDelayMs: 50 } });
    await fake.start();
    app = await startTestApp({
      port: await freePort(),
      integrations: [JiraProvider],
      env: jiraEnv(fake),
    });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.stop();
  });

  it('a grant reaching two Jira sites stays pending (site_required) until one is chosen', async () => {
    const confirmed = await connectJira(app, userId, 'alice', (url) => {
      expect(url.searchParams.get('scope')).toBe(
        'read:jira-work read:jira-user manage:jira-webhook offline_access',
      );
      expect(url.searchParams.get('code_challenge')).toBeNull();
    });
    expect(confirmed).toMatchObject({
      status: 'pending',
      pendingReason: 'site_required',
      siteId: null,
    });
    ctx = { app, db: app.app.get(DataSource), userId, connectionId: confirmed.id };
    // Nothing runs before the choice.
    expect(
      await ctx.db.query('SELECT 1 FROM sync_runs WHERE connection_id = $1', [ctx.connectionId]),
    ).toEqual([]);

    const sites = await api(`/v1/connections/${ctx.connectionId}/sites`);
    expect(sites.status).toBe(200);
    // The Confluence-only site (listed first by Atlassian) is not offered; sorted by name.
    expect(await sites.json()).toEqual([
      {
        id: SEED_SITES.acme,
        name: 'acme-sandbox',
        url: 'https://acme-sandbox.atlassian.net',
        chosen: false,
      },
      { id: SEED_SITES.pdeck, name: 'pdeck', url: 'https://pdeck.atlassian.net', chosen: false },
    ]);
    const wrong = await api(`/v1/connections/${ctx.connectionId}/site`, {
      method: 'PUT',
      body: JSON.stringify({ cloudId: SEED_SITES.wiki }),
    });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ error: 'unknown_site' });

    const chosen = await api(`/v1/connections/${ctx.connectionId}/site`, {
      method: 'PUT',
      body: JSON.stringify({ cloudId: SEED_SITES.pdeck }),
    });
    expect(chosen.status).toBe(200);
    expect(await chosen.json()).toMatchObject({
      status: 'active',
      pendingReason: null,
      siteId: SEED_SITES.pdeck,
      accountId: ALICE,
      accountLabel: 'pdeck (Alice Example)',
    });
    const other = await api(`/v1/connections/${ctx.connectionId}/site`, {
      method: 'PUT',
      body: JSON.stringify({ cloudId: SEED_SITES.acme }),
    });
    expect(other.status).toBe(409);
    expect(await other.json()).toMatchObject({ error: 'site_already_chosen' });
  });

  it("imports exactly the site's issues in scope, mapped, and subscribes a webhook", async () => {
    await idle();
    const expected = scopeIssueIds(fake, SEED_SITES.pdeck, ALICE);
    expect(expected.length).toBeGreaterThan(0);
    expect(await liveExternalIds(ctx)).toEqual(expected);
    const [item] = await ctx.db.query(
      `SELECT title, url, container_id, container_name, external_version FROM items
       WHERE connection_id = $1 AND external_id = $2`,
      [ctx.connectionId, expected[0]],
    );
    const issue = fake.data.siteIssues(SEED_SITES.pdeck).find((i) => i.id === expected[0])!;
    expect(item).toMatchObject({
      title: issue.summary,
      url: `https://pdeck.atlassian.net/browse/${issue.key}`,
      container_id: SEED_SITES.pdeck,
    });
    await eventually(
      async () =>
        fake.webhooks.list(clientId(), SEED_SITES.pdeck).length === 1 ? true : undefined,
      'a dynamic webhook on the chosen site',
      { debug },
    );
    const [hook] = fake.webhooks.list(clientId(), SEED_SITES.pdeck);
    expect(hook.url).toBe(`${app.baseUrl}/v1/webhooks/jira`);
    expect(hook.jqlFilter).toBe(`assignee = "${ALICE}"`);
    expect(fake.webhooks.list(clientId(), SEED_SITES.acme)).toEqual([]);
  });

  it('webhooks: an update to Done, a new issue and a deletion reach the feed', async () => {
    const open = fake.data
      .siteIssues(SEED_SITES.pdeck)
      .find((i) => i.assignee === ALICE && i.status !== 'Done')!;
    fake.updateIssue(SEED_SITES.pdeck, open.key, { status: 'Done' });
    const created = fake.createIssue(SEED_SITES.pdeck, {
      project: 'PD',
      summary: 'Created in Jira during the test',
      assignee: ALICE,
      reporter: BOB,
    });
    await eventually(
      async () => {
        const state = await feedState(ctx);
        return state.get(open.id)?.status === 'completed' &&
          state.get(created.id)?.title === 'Created in Jira during the test'
          ? true
          : undefined;
      },
      'the Done status and the new issue in the feed',
      { timeoutMs: 15_000, debug },
    );
    fake.deleteIssue(SEED_SITES.pdeck, created.key);
    await eventually(
      async () => ((await feedState(ctx)).get(created.id)?.deletedAt ? true : undefined),
      'a tombstone for the deleted issue',
      { timeoutMs: 15_000, debug },
    );
  });

  it('forged deliveries are refused with 401 and store nothing', async () => {
    await fake.whenIdle();
    const [{ n: before }] = await ctx.db.query('SELECT count(*)::int AS n FROM webhook_deliveries');
    const now = Math.floor(Date.now() / 1000);
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const tokens = [
      signJwt({ iat: now, exp: now + 600 }, 'not-the-client-secret'),
      signJwt({ iat: now - 7200, exp: now - 3600 }, fake.apps[0].clientSecret),
      `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ exp: now + 600 })}.`,
    ];
    for (const token of tokens) {
      const res = await fetch(`${app.baseUrl}/v1/webhooks/jira`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
          'x-atlassian-webhook-identifier': randomUUID(),
        },
        body: JSON.stringify({ webhookEvent: 'jira:issue_deleted', matchedWebhookIds: [1] }),
      });
      expect(res.status).toBe(401);
    }
    const [{ n: after }] = await ctx.db.query('SELECT count(*)::int AS n FROM webhook_deliveries');
    expect(after).toBe(before);
  });

  it('two refreshes each present the newest refresh token: no reuse, no revoked family', async () => {
    const store = app.app.get(ConnectionStore);
    const tokens = app.app.get(TokenService);
    const presented: string[] = [];
    for (let round = 0; round < 2; round++) {
      const connection = await store.get(ctx.connectionId);
      const current = store.credentialsOf(connection);
      expect(fake.oauth.isRefreshTokenActive(current.refreshToken!)).toBe(true);
      presented.push(current.refreshToken!);
      await store.swapCredentials(ctx.connectionId, connection.tokenVersion, {
        ...current,
        expiresAt: new Date(Date.now() - 1000).toISOString(),
      });
      const next = await tokens.getCredentials(ctx.connectionId);
      expect(next.refreshToken).not.toBe(current.refreshToken);
      expect(fake.oauth.isRefreshTokenActive(next.refreshToken!)).toBe(true);
    }
    expect(new Set(presented).size).toBe(2);
    expect(fake.oauth.counters.familiesRevoked).toBe(0);
    expect(fake.oauth.counters.tokenErrors).toEqual({});
    expect(fake.oauth.counters.tokenRequests.refresh_token).toBe(2);
  });

  it('a 429 is honoured: the run waits for Retry-After, then completes without a storm', async () => {
    await idle();
    const before = fake.stats() as { jira: { rateLimited: number } };
    fake.rateLimitNext(1, 'jira-burst-based', 1);
    const res = await api(`/v1/connections/${ctx.connectionId}/sync`, {
      method: 'POST',
      body: JSON.stringify({ mode: 'incremental' }),
    });
    expect(res.status).toBe(202);
    const { syncRunId } = (await res.json()) as { syncRunId: string };
    await eventually(
      async () => {
        const [run] = await ctx.db.query('SELECT status FROM sync_runs WHERE id = $1', [syncRunId]);
        return run?.status === 'succeeded' ? true : undefined;
      },
      'the rate-limited run to succeed after its wait',
      { timeoutMs: 30_000, debug },
    );
    const after = fake.stats() as { jira: { rateLimited: number } };
    expect(after.jira.rateLimited - before.jira.rateLimited).toBe(1);
  });

  it('settings: an invalid JQL override is refused with 400, a valid one narrows the scope', async () => {
    const bad = await api(`/v1/connections/${ctx.connectionId}/settings`, {
      method: 'PATCH',
      body: JSON.stringify({ jql: 'project = PD ORDER BY key' }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_settings' });
    const ok = await api(`/v1/connections/${ctx.connectionId}/settings`, {
      method: 'PATCH',
      body: JSON.stringify({ jql: 'project = OPS AND assignee = currentUser()' }),
    });
    expect(ok.status).toBe(200);
    await idle();
    const res = await api(`/v1/connections/${ctx.connectionId}/sync`, {
      method: 'POST',
      body: '{}',
    });
    expect(res.status).toBe(202);
    await eventually(
      async () => {
        await idle();
        const ops = fake.data
          .siteIssues(SEED_SITES.pdeck)
          .filter((i) => i.projectKey === 'OPS' && i.assignee === ALICE)
          .map((i) => i.id)
          .sort();
        const live = await liveExternalIds(ctx);
        return JSON.stringify(live) === JSON.stringify(ops) ? true : undefined;
      },
      'the feed to hold exactly the OPS issues',
      { timeoutMs: 30_000, debug },
    );
  });

  it('disconnect deletes every webhook of ours and forgets the tokens', async () => {
    await idle();
    expect(fake.webhooks.list(clientId(), SEED_SITES.pdeck).length).toBe(1);
    const res = await api(`/v1/connections/${ctx.connectionId}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'disconnected', lastError: null });
    expect(fake.webhooks.list(clientId(), SEED_SITES.pdeck)).toEqual([]);
    const [row] = await ctx.db.query('SELECT credentials FROM connections WHERE id = $1', [
      ctx.connectionId,
    ]);
    expect(row.credentials).toBeNull();
  });
});
