import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PendingGrantsSweeper } from '../../src/auth/pending-grants.sweeper.js';
import { ConnectionStore } from '../../src/auth/connection-store.service.js';
import type { Connection } from '../../src/auth/entities/connection.entity.js';
import { RedisInstance } from '../harness/redis-instance.js';
import { ConnectDriver } from '../support/connect-kit.js';
import { startOidcServer, type OidcServer } from '../support/oidc-server.js';
import { freePort, startTestApp, TEST_API_TOKEN, type TestApp } from '../support/test-app.js';
import {
  TEST_OAUTH_ID,
  TEST_OAUTH_ORIGIN,
  TestOAuthProvider,
} from '../support/test-oauth-provider.js';
import { CLIENT, tokenRequest } from '../support/token-test-kit.js';

const RETURN_ORIGIN = 'http://127.0.0.1:5999';
const RETURN_TO = `${RETURN_ORIGIN}/integrations`;

/**
 * A connect flow is bound to the PDeck user who started it: the grant waits, pending, until
 * PDeck's backend confirms it for that same user. Scenario: user A sends their authorize link to
 * B ("connect your calendar"), B signs in with B's own account and allows.
 */
describe('connect confirmation: a link completed by someone else attaches nothing', () => {
  let oidc: OidcServer;
  let redis: RedisInstance;
  let t: TestApp;
  let d: ConnectDriver;

  beforeAll(async () => {
    const port = await freePort();
    const callbackUri = `http://127.0.0.1:${port}/v1/oauth/${TEST_OAUTH_ID}/callback`;
    oidc = await startOidcServer({ ...CLIENT, redirectUris: [callbackUri] });
    // A Redis of this file's own, so one test can take it away during a callback.
    redis = await new RedisInstance({ appendOnly: false }).start();
    t = await startTestApp({
      port,
      integrations: [TestOAuthProvider],
      env: {
        REDIS_URL: redis.url,
        PROVIDER_ORIGINS: JSON.stringify({ [TEST_OAUTH_ORIGIN]: oidc.origin }),
        RETURN_TO_ORIGINS: RETURN_ORIGIN,
      },
      configure: (config) => {
        config.providerCredentials[TEST_OAUTH_ID] = { ...CLIENT };
      },
    });
    d = new ConnectDriver(t);
    await d.open();
  });
  afterAll(async () => {
    await d?.close();
    await t?.close();
    await redis?.destroy();
    await oidc?.close();
  });

  /** Starts a flow for `starter`, consents as the provider account `account`, follows the callback. */
  async function completeFlow(starter: string, account: string) {
    oidc.setAccount(account);
    const { callback } = await d.consented(starter, RETURN_TO);
    const res = await d.callback(callback);
    expect(res.status).toBe(302);
    const landed = new URL(res.headers.get('location')!);
    return {
      landed,
      connectionId: landed.searchParams.get('connectionId'),
      token: landed.searchParams.get('confirm'),
    };
  }

  const store = () => t.app.get(ConnectionStore);
  const row = async (id: unknown): Promise<Connection | null> => store().find(String(id));

  it("A's link completed by B and confirmed for B: 403, the grant revoked, nothing of B's account kept", async () => {
    const { connectionId, token } = await completeFlow('user-a', 'account-of-b');
    const pending = (await row(connectionId))!;
    expect(pending).toMatchObject({
      userId: 'user-a',
      accountId: 'account-of-b',
      status: 'pending',
    });
    const grant = store().pendingGrantOf(pending)!;
    expect(grant.credentials.refreshToken).toBeTruthy();
    // Not listed as a connection of A's (only on request), and nothing syncs for it.
    const listed = await fetch(`${t.baseUrl}/v1/connections?userId=user-a`, {
      headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
    });
    expect(await listed.json()).toEqual([]);
    const pendingListed = await fetch(`${t.baseUrl}/v1/connections?userId=user-a&status=pending`, {
      headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
    });
    expect(((await pendingListed.json()) as { id: string }[]).map((c) => c.id)).toEqual([
      connectionId,
    ]);

    // PDeck's backend knows B is signed in where the browser landed.
    const refused = await d.confirm(connectionId, 'user-b', token);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toBe('confirmation_refused');
    expect(await row(connectionId)).toBeNull();
    expect(await d.connections('account_id = $1', ['account-of-b'])).toEqual([]);
    // Revoked at the provider: its refresh token no longer works.
    const refresh = await tokenRequest(oidc, {
      grant_type: 'refresh_token',
      refresh_token: grant.credentials.refreshToken!,
    });
    expect(refresh.error).toBe('invalid_grant');
    // Even the right user cannot confirm it afterwards.
    expect((await d.confirm(connectionId, 'user-a', token)).status).toBe(404);
  });

  it('a wrong token is refused the same way, even for the right user', async () => {
    const { connectionId } = await completeFlow('user-c', 'account-of-c');
    const refused = await d.confirm(connectionId, 'user-c', 'x'.repeat(43));
    expect(refused.status).toBe(403);
    expect(await row(connectionId)).toBeNull();
  });

  it('confirmed by the right user: active; a second confirmation is refused and changes nothing', async () => {
    const { connectionId, token } = await completeFlow('user-d', 'account-of-d');
    expect((await d.confirm(connectionId, 'user-d', token)).status).toBe(200);
    const active = (await row(connectionId))!;
    expect(active.status).toBe('active');
    const again = await d.confirm(connectionId, 'user-d', token);
    expect(again.status).toBe(409);
    // Nor does a confirmation "for someone else" touch an active connection.
    expect((await d.confirm(connectionId, 'user-x', token)).status).toBe(409);
    expect(await row(connectionId)).toMatchObject({
      status: 'active',
      tokenVersion: active.tokenVersion,
    });
  });

  it('a grant nobody confirms within 10 minutes is refused (410), and the sweeper ends the others', async () => {
    const late = await completeFlow('user-e', 'account-of-e');
    const swept = await completeFlow('user-f', 'account-of-f');
    const sweptGrant = store().pendingGrantOf((await row(swept.connectionId))!)!;
    await d.db.query(
      "UPDATE connections SET confirm_expires_at = now() - interval '1 second' WHERE id = ANY($1)",
      [[late.connectionId, swept.connectionId]],
    );
    const gone = await d.confirm(late.connectionId, 'user-e', late.token);
    expect(gone.status).toBe(410);
    expect(await row(late.connectionId)).toBeNull();

    await t.app.get(PendingGrantsSweeper).sweep();
    expect(await row(swept.connectionId)).toBeNull();
    const refresh = await tokenRequest(oidc, {
      grant_type: 'refresh_token',
      refresh_token: sweptGrant.credentials.refreshToken!,
    });
    expect(refresh.error).toBe('invalid_grant');
  });

  it('a reconnect left unconfirmed keeps the connection and its credentials as they were', async () => {
    const first = await completeFlow('user-g', 'account-of-g');
    expect((await d.confirm(first.connectionId, 'user-g', first.token)).status).toBe(200);
    const before = (await row(first.connectionId))!;
    const again = await completeFlow('user-g', 'account-of-g');
    expect(again.connectionId).toBe(first.connectionId);
    await d.db.query(
      "UPDATE connections SET confirm_expires_at = now() - interval '1 second' WHERE id = $1",
      [first.connectionId],
    );
    await t.app.get(PendingGrantsSweeper).sweep();
    const after = (await row(first.connectionId))!;
    expect(after).toMatchObject({
      status: 'active',
      pendingGrant: null,
      tokenVersion: before.tokenVersion,
    });
    expect(store().credentialsOf(after)).toEqual(store().credentialsOf(before));
  });

  it('Redis away during the callback: back to returnTo with ?error= within seconds, nothing stored', async () => {
    oidc.setAccount('account-of-h');
    const { callback } = await d.consented('user-h', RETURN_TO);
    await redis.kill();
    try {
      const res = await d.callback(callback);
      expect(res.status).toBe(302);
      const landed = new URL(res.headers.get('location')!);
      expect(`${landed.origin}${landed.pathname}`).toBe(RETURN_TO);
      expect(landed.searchParams.get('error')).toBe('temporarily_unavailable');
      expect(landed.searchParams.get('connectionId')).toBeNull();
    } finally {
      await redis.start();
    }
    expect(await d.connections('account_id = $1', ['account-of-h'])).toEqual([]);
  });

  it('a refused code exchange after the state was redeemed sends the user back with the reason', async () => {
    oidc.setAccount('account-of-i');
    const { callback } = await d.consented('user-i', RETURN_TO);
    const tampered = new URL(callback);
    tampered.searchParams.set('code', 'not-a-code-the-server-issued');
    const res = await d.callback(tampered);
    expect(res.status).toBe(302);
    const landed = new URL(res.headers.get('location')!);
    expect(landed.searchParams.get('error')).toBe('token_exchange_failed');
    expect(await d.connections('account_id = $1', ['account-of-i'])).toEqual([]);
  });
});
