import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionStore } from '../../src/auth/connection-store.service.js';
import {
  codeForRedirect,
  ConnectDriver,
  OtherOAuthProvider,
  s256,
} from '../support/connect-kit.js';
import { startOidcServer, type OidcServer } from '../support/oidc-server.js';
import { freePort, startTestApp, type TestApp } from '../support/test-app.js';
import {
  TEST_OAUTH_ID,
  TEST_OAUTH_ORIGIN,
  TestOAuthProvider,
} from '../support/test-oauth-provider.js';

const CLIENT = { clientId: 'pdeck-connect', clientSecret: 'connect-secret-0123456789abcdef' };
const RETURN_ORIGIN = 'http://127.0.0.1:5999';
const OTHER_ID = `${TEST_OAUTH_ID}-b`;
const BAD_BODIES = [{}, { userId: '' }, { userId: 'u'.repeat(201) }, { userId: 'u', extra: 1 }];
/** Lookalike hosts, other ports and schemes: no prefix matching, no open redirect. */
const BAD_RETURN_TO = [
  'https://evil.example/done',
  `${RETURN_ORIGIN}.evil.example/done`,
  `${RETURN_ORIGIN}0/done`,
  RETURN_ORIGIN.replace('http:', 'https:'),
  'javascript:alert(1)',
];

describe('connecting an OAuth 2.0 account against a real authorization server', () => {
  let oidc: OidcServer;
  let t: TestApp;
  let d: ConnectDriver;
  let callbackUri: string;
  let elsewhereUri: string;
  const logs: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    callbackUri = `http://127.0.0.1:${port}/v1/oauth/${TEST_OAUTH_ID}/callback`;
    // Registered too, only for the "code issued for another redirect URI" case.
    elsewhereUri = `http://127.0.0.1:${port}/elsewhere/callback`;
    oidc = await startOidcServer({ ...CLIENT, redirectUris: [callbackUri, elsewhereUri] });
    t = await startTestApp({
      port,
      integrations: [TestOAuthProvider, OtherOAuthProvider],
      env: {
        PROVIDER_ORIGINS: JSON.stringify({ [TEST_OAUTH_ORIGIN]: oidc.origin }),
        RETURN_TO_ORIGINS: RETURN_ORIGIN,
        LOG_LEVEL: 'debug',
      },
      configure: (config) => {
        config.providerCredentials[TEST_OAUTH_ID] = { ...CLIENT };
        config.providerCredentials[OTHER_ID] = { ...CLIENT };
        config.logDestination = { write: (line) => void logs.push(line) };
      },
    });
    d = new ConnectDriver(t);
    await d.open();
  });
  afterAll(async () => {
    await d?.close();
    await t?.close();
    await oidc?.close();
  });

  /** A clear 400 with the given error code and nothing else to see. */
  async function expect400(res: Response, error: string, message = ''): Promise<void> {
    expect(res.status).toBe(400);
    const body = { statusCode: 400, error, message: expect.stringContaining(message) };
    expect(await res.json()).toEqual(body);
  }

  it('runs the code flow with PKCE, keeps the grant pending, and activates it on confirmation', async () => {
    const { url, state } = await d.start('user-a', `${RETURN_ORIGIN}/done?tab=apps`);
    expect(url.origin).toBe(oidc.origin);
    const stored = await d.storedState(state);
    expect(stored).toMatchObject({ provider: TEST_OAUTH_ID, userId: 'user-a' });
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: CLIENT.clientId,
      redirect_uri: callbackUri,
      scope: 'openid email tasks.read',
      prompt: 'consent',
      code_challenge: s256(stored?.verifier ?? ''),
      code_challenge_method: 'S256',
      // The random part, then the returnTo sealed for callbacks that cannot reach Redis.
      state: expect.stringMatching(/^[A-Za-z0-9_-]{43}\.v1\.[A-Za-z0-9_.-]+$/),
    });
    const ttl = await d.redis.ttl(d.stateKey(state));
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);

    const callback = await d.consent(url);
    d.flowSecrets.push(state, stored?.verifier ?? '', callback.searchParams.get('code') ?? '');
    const res = await d.callback(callback);
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(`${RETURN_ORIGIN}/done`);
    expect(location.searchParams.get('tab')).toBe('apps');
    const connectionId = location.searchParams.get('connectionId');
    const confirmToken = location.searchParams.get('confirm');
    expect(confirmToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await d.storedState(state)).toBeNull();

    // Pending: credentials kept encrypted beside the row, nothing active, nobody told yet.
    const [pending] = await d.connections('id = $1', [connectionId]);
    expect(pending).toMatchObject({ user_id: 'user-a', account_id: 'user-1', status: 'pending' });
    expect(pending.credentials).toBeNull();
    expect(pending.pending_grant).toEqual(expect.any(String));
    expect(pending.confirm_token_hash).not.toBe(confirmToken);
    expect(d.events).toEqual([]);

    const confirmed = await d.confirm(connectionId, 'user-a', confirmToken);
    expect(confirmed.status).toBe(200);
    expect(await confirmed.json()).toMatchObject({ id: connectionId, status: 'active' });
    const [row] = await d.connections('id = $1', [connectionId]);
    expect(row).toMatchObject({ status: 'active', pending_grant: null, confirm_token_hash: null });
    expect(row.scopes).toEqual(expect.arrayContaining(['openid', 'email', 'tasks.read']));
    const credentials = await d.credentialsOf(connectionId);
    expect(credentials.accessToken).toBeTruthy();
    expect(credentials.refreshToken).toBeTruthy();
    const expiresIn = Date.parse(credentials.expiresAt ?? '') - Date.now();
    expect(expiresIn).toBeGreaterThan(3500_000);
    expect(expiresIn).toBeLessThanOrEqual(3600_000);
    const rowText = JSON.stringify(row);
    expect(rowText).not.toContain(credentials.accessToken);
    expect(rowText).not.toContain(credentials.refreshToken);
    expect(d.events).toContainEqual({
      name: 'connection.created',
      event: { connectionId, userId: 'user-a', provider: TEST_OAUTH_ID },
    });

    // The same confirmation again is refused and changes nothing.
    const again = await d.confirm(connectionId, 'user-a', confirmToken);
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: string }).error).toBe('not_pending');
    // The same callback again (a replayed state) is refused and changes nothing.
    await expect400(await d.callback(callback), 'invalid_state', 'already used');
    expect(await d.credentialsOf(connectionId)).toEqual(credentials);
  });

  it('reconnecting the same account keeps the old credentials until the new grant is confirmed', async () => {
    const [before] = await d.connections("user_id = 'user-a'");
    const oldCredentials = await d.credentialsOf(before.id);
    await t.app.get(ConnectionStore).setStatus(String(before.id), 'needs_reauth', 'invalid_grant');
    const { callback } = await d.consented('user-a');
    const res = await d.callback(callback);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    expect(body).toEqual({
      connectionId: before.id,
      confirm: expect.any(String),
      provider: TEST_OAUTH_ID,
      status: 'pending',
    });
    const [waiting] = await d.connections("user_id = 'user-a'");
    expect(waiting).toMatchObject({ id: before.id, status: 'needs_reauth' });
    expect(await d.credentialsOf(before.id)).toEqual(oldCredentials);

    expect((await d.confirm(before.id, 'user-a', body.confirm)).status).toBe(200);
    const [after] = await d.connections("user_id = 'user-a'");
    expect(after).toMatchObject({ id: before.id, status: 'active', last_error: null });
    expect(after.token_version).toBe(Number(before.token_version) + 1);
    expect((await d.credentialsOf(before.id)).accessToken).not.toBe(oldCredentials.accessToken);
    expect(d.events.at(-1)).toEqual({
      name: 'connection.reconnected',
      event: { connectionId: before.id, userId: 'user-a', provider: TEST_OAUTH_ID },
    });
  });

  it('refuses a code obtained in another user’s flow (state of another user)', async () => {
    const flowA = await d.start('user-victim');
    d.flowSecrets.push(flowA.state);
    const { code } = await d.consented('user-attacker');
    const res = await d.callback(d.callbackUrl(TEST_OAUTH_ID, { code, state: flowA.state }));
    await expect400(res, 'token_exchange_failed', 'invalid_grant');
    expect(await d.connections("user_id IN ('user-victim', 'user-attacker')")).toEqual([]);
  });

  it('refuses the exchange when the PKCE verifier does not match', async () => {
    const { callback, state } = await d.consented('user-pkce');
    const stored = await d.storedState(state);
    const tampered = { ...stored, verifier: 'x'.repeat(43) };
    await d.redis.set(d.stateKey(state), JSON.stringify(tampered), 'KEEPTTL');
    await expect400(await d.callback(callback), 'token_exchange_failed', 'invalid_grant');
    expect(await d.connections("user_id = 'user-pkce'")).toEqual([]);
  });

  it('refuses a code issued for another redirect URI', async () => {
    const { state } = await d.start('user-redirect');
    const verifier = (await d.storedState(state))?.verifier ?? '';
    // Same client, account and PKCE challenge: only the redirect_uri differs.
    const code = await codeForRedirect(oidc.origin, t.baseUrl, {
      clientId: CLIENT.clientId,
      redirectUri: elsewhereUri,
      scope: 'openid email tasks.read',
      verifier,
    });
    d.flowSecrets.push(state, verifier, code);
    const res = await d.callback(d.callbackUrl(TEST_OAUTH_ID, { code, state }));
    await expect400(res, 'token_exchange_failed', 'invalid_grant');
    expect(await d.connections("user_id = 'user-redirect'")).toEqual([]);
  });

  it('refuses a state at another provider’s callback path and burns it (mix-up)', async () => {
    const { callback, state } = await d.consented('user-mixup');
    const wrongPath = new URL(callback);
    wrongPath.pathname = `/v1/oauth/${OTHER_ID}/callback`;
    await expect400(await d.callback(wrongPath), 'invalid_state', 'another provider');
    expect(await d.storedState(state)).toBeNull();
    expect((await d.callback(callback)).status).toBe(400);
    expect(await d.connections("user_id = 'user-mixup'")).toEqual([]);
  });

  it('sends the user back with ?error=access_denied when they decline', async () => {
    const { state } = await d.start('user-deny', `${RETURN_ORIGIN}/done`);
    const denied = d.callbackUrl(TEST_OAUTH_ID, { error: 'access_denied', state });
    const res = await d.callback(denied);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${RETURN_ORIGIN}/done?error=access_denied`);
    expect((await d.callback(denied)).status).toBe(400);

    const noReturn = await d.start('user-deny');
    const json = await d.callback(
      d.callbackUrl(TEST_OAUTH_ID, { error: 'access_denied', state: noReturn.state }),
    );
    await expect400(json, 'access_denied', 'did not grant');
    expect(await d.connections("user_id = 'user-deny'")).toEqual([]);
  });

  it('refuses callbacks without a state or with a forged one, as JSON or HTML', async () => {
    const missing = await d.callback(d.callbackUrl(TEST_OAUTH_ID, { code: 'some-code' }));
    await expect400(missing, 'invalid_state', 'no state');
    const forged = d.callbackUrl(TEST_OAUTH_ID, { code: 'c', state: 'A'.repeat(43) });
    const html = await d.callback(forged, 'text/html,application/xhtml+xml');
    expect(html.status).toBe(400);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(await html.text()).toContain('unknown, expired or was already used');
    expect((await d.callback(`${t.baseUrl}/v1/oauth/${TEST_OAUTH_ID}/callback`)).status).toBe(400);
  });

  it('validates the authorize request', async () => {
    expect((await d.authorize({ userId: 'u' }, TEST_OAUTH_ID, null)).status).toBe(401);
    expect((await d.authorize({ userId: 'u' }, 'no-such-provider')).status).toBe(404);
    const unknown = await fetch(d.callbackUrl('no-such-provider', { code: 'c', state: 's' }));
    expect(unknown.status).toBe(404);
    for (const body of BAD_BODIES) expect((await d.authorize(body)).status).toBe(400);
    for (const returnTo of BAD_RETURN_TO) {
      expect((await d.authorize({ userId: 'u', returnTo })).status, returnTo).toBe(400);
    }
  });

  it('documents both routes in Swagger', async () => {
    const doc = (await (await fetch(`${t.baseUrl}/docs/json`)).json()) as {
      paths: Record<string, Record<string, { tags: string[]; summary: string }>>;
    };
    const authorize = doc.paths['/v1/connections/{provider}/authorize'].post;
    const callback = doc.paths['/v1/oauth/{provider}/callback'].get;
    for (const op of [authorize, callback]) expect(op).toMatchObject({ tags: ['connections'] });
  });

  it('never writes a token, code, state or verifier to logs, responses or Redis', async () => {
    const tokens = await d.storedTokens();
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    const logText = logs.join('');
    expect(logText).toContain('Grant stored; waiting for confirmation');
    expect(logText).toContain('Connection confirmed');
    expect(logText).toContain('oauth2.code_exchange');
    const responses = d.responses.join('\n');
    const redis = await d.redisDump();
    for (const secret of [...tokens, CLIENT.clientSecret]) {
      expect(logText).not.toContain(secret);
      expect(responses).not.toContain(secret);
      expect(redis).not.toContain(secret);
    }
    for (const secret of d.flowSecrets.filter((s) => s.length >= 20)) {
      expect(logText).not.toContain(secret);
    }
  });
});
