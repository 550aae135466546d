import type { NestExpressApplication } from '@nestjs/platform-express';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTION_EVENTS, type ConnectionEvent } from '../../src/auth/connection-events.js';
import { ConnectionStore } from '../../src/auth/connection-store.service.js';
import { createHttpApp } from '../../src/app.factory.js';
import { captureProcessOutput, redisValues } from '../support/leak-check.js';
import { followConsent, startOidcServer, type OidcServer } from '../support/oidc-server.js';
import { buildTestConfig, freePort, TEST_API_TOKEN } from '../support/test-app.js';
import type { TestDatabase } from '../support/test-database.js';
import {
  TEST_OAUTH_ID,
  TEST_OAUTH_ORIGIN,
  TestOAuthProvider,
} from '../support/test-oauth-provider.js';
import { flushPrefix } from '../support/test-services.js';
import {
  CLIENT,
  MANUAL_REDIRECT,
  tokenRequest,
  userinfoStatus,
} from '../support/token-test-kit.js';

const DTO_KEYS = [
  'accountId',
  'accountLabel',
  'createdAt',
  'health',
  'id',
  'lastError',
  'pendingReason',
  'provider',
  'scopes',
  'siteId',
  'status',
  'tokenExpiresAt',
  'updatedAt',
  'userId',
];

describe('connections API: list, get, disconnect (revocation at oidc-provider)', () => {
  const output = captureProcessOutput();
  const bodies: string[] = [];
  const issued: string[] = [];
  const deleted: ConnectionEvent[] = [];
  let oidc: OidcServer;
  let app: NestExpressApplication;
  let database: TestDatabase;
  let baseUrl = '';
  let redis = { url: '', prefix: '' };

  const call = async (method: string, path: string, body?: unknown, auth = true) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(auth ? { authorization: `Bearer ${TEST_API_TOKEN}` } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    bodies.push(text);
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };

  /** The real connect flow: authorize, consent at oidc-provider, our callback, confirmation. */
  const connect = async (userId: string, account: string): Promise<string> => {
    oidc.setAccount(account);
    const started = await call('POST', `/v1/connections/${TEST_OAUTH_ID}/authorize`, { userId });
    expect(started.status).toBe(201);
    const callback = await followConsent(String(started.body.authorizeUrl), baseUrl);
    const res = await fetch(callback);
    const body = (await res.json()) as { connectionId: string; confirm: string };
    expect(res.status).toBe(200);
    const confirmed = await call('POST', `/v1/connections/${body.connectionId}/confirm`, {
      userId,
      token: body.confirm,
    });
    expect(confirmed.status).toBe(200);
    const store = app.get(ConnectionStore);
    const creds = store.credentialsOf(await store.get(body.connectionId));
    issued.push(creds.accessToken, creds.refreshToken!);
    return body.connectionId;
  };

  beforeAll(async () => {
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    oidc = await startOidcServer({
      ...CLIENT,
      redirectUris: [`${baseUrl}/v1/oauth/${TEST_OAUTH_ID}/callback`, MANUAL_REDIRECT],
    });
    const built = await buildTestConfig({
      PORT: String(port),
      PUBLIC_URL: baseUrl,
      LOG_LEVEL: 'debug',
      PROVIDER_ORIGINS: JSON.stringify({ [TEST_OAUTH_ORIGIN]: oidc.origin }),
    });
    built.config.providerCredentials[TEST_OAUTH_ID] = { ...CLIENT };
    database = built.database;
    redis = { url: built.config.redisUrl, prefix: built.config.redisKeyPrefix };
    app = await createHttpApp(built.config, { integrations: [TestOAuthProvider] });
    await app.listen(port, '127.0.0.1');
    app.get(EventEmitter2).on(CONNECTION_EVENTS.deleted, (e: ConnectionEvent) => deleted.push(e));
  });
  afterAll(async () => {
    await app?.close();
    await oidc?.close();
    await flushPrefix(redis.url, redis.prefix);
    await database?.drop();
    output.restore();
  });

  it('refuses requests without the bearer token', async () => {
    const id = '0b6f7f0e-5d1c-4d0b-9a53-2f3c1c8e6f11';
    expect((await call('GET', '/v1/connections?userId=u', undefined, false)).status).toBe(401);
    expect((await call('GET', `/v1/connections/${id}`, undefined, false)).status).toBe(401);
    expect((await call('DELETE', `/v1/connections/${id}`, undefined, false)).status).toBe(401);
  });

  it('validates input: 400 without userId, for a bad uuid or purgeItems; 404 unknown', async () => {
    expect((await call('GET', '/v1/connections')).status).toBe(400);
    expect((await call('GET', '/v1/connections/not-a-uuid')).status).toBe(400);
    expect((await call('DELETE', '/v1/connections/not-a-uuid')).status).toBe(400);
    const unknown = '0b6f7f0e-5d1c-4d0b-9a53-2f3c1c8e6f11';
    expect((await call('GET', `/v1/connections/${unknown}`)).status).toBe(404);
    expect((await call('DELETE', `/v1/connections/${unknown}`)).status).toBe(404);
    const created = await connect('user-v', 'validation');
    expect((await call('DELETE', `/v1/connections/${created}?purgeItems=maybe`)).status).toBe(400);
  });

  it('lists and gets connections without any token material', async () => {
    const id = await connect('user-list', 'lister');
    const list = await call('GET', '/v1/connections?userId=user-list');
    expect(list.status).toBe(200);
    const items = list.body as unknown as Record<string, unknown>[];
    expect(items).toHaveLength(1);
    expect(Object.keys(items[0]).sort()).toEqual(DTO_KEYS);
    expect(items[0]).toMatchObject({
      id,
      userId: 'user-list',
      provider: TEST_OAUTH_ID,
      accountId: 'lister',
      status: 'active',
      lastError: null,
    });
    expect(Date.parse(String(items[0].tokenExpiresAt))).toBeGreaterThan(Date.now());
    expect(items[0].health).toMatchObject({
      state: expect.any(String),
      reason: expect.any(String),
    });
    const one = await call('GET', `/v1/connections/${id}`);
    // Health is derived at each read (a first sync may start or end in between).
    const withoutHealth = (c: Record<string, unknown>) => ({ ...c, health: undefined });
    expect(one.status).toBe(200);
    expect(withoutHealth(one.body as Record<string, unknown>)).toEqual(withoutHealth(items[0]));
    expect((await call('GET', '/v1/connections?userId=nobody')).body).toEqual([]);
  });

  it('DELETE revokes the grant at the provider, erases the tokens and tells the other modules', async () => {
    const id = await connect('user-del', 'leaver');
    const store = app.get(ConnectionStore);
    const creds = store.credentialsOf(await store.get(id));
    expect(await userinfoStatus(oidc, creds.accessToken)).toBe(200);
    deleted.length = 0;

    const res = await call('DELETE', `/v1/connections/${id}?purgeItems=true`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id,
      status: 'disconnected',
      lastError: null,
      tokenExpiresAt: null,
    });

    // Revoking the refresh token ended the whole grant: both tokens are dead at the provider.
    expect(await userinfoStatus(oidc, creds.accessToken)).toBe(401);
    const reuse = await tokenRequest(oidc, {
      grant_type: 'refresh_token',
      refresh_token: creds.refreshToken!,
    });
    expect(reuse.error).toBe('invalid_grant');
    const row = await store.get(id);
    expect(row.status).toBe('disconnected');
    expect(row.credentials).toBeNull();
    expect(deleted).toEqual([
      { connectionId: id, userId: 'user-del', provider: TEST_OAUTH_ID, purgeItems: true },
    ]);

    // Repeating is harmless: same answer, no second event.
    const again = await call('DELETE', `/v1/connections/${id}`);
    expect(again).toMatchObject({ status: 200, body: { id, status: 'disconnected' } });
    expect(deleted).toHaveLength(1);
    expect((await call('GET', `/v1/connections/${id}`)).body.status).toBe('disconnected');

    // Connecting the same account again brings the same row back to life.
    expect(await connect('user-del', 'leaver')).toBe(id);
    expect((await call('GET', `/v1/connections/${id}`)).body.status).toBe('active');
  });

  it('documents the routes in Swagger under "connections"', async () => {
    const doc = (await (await fetch(`${baseUrl}/docs/json`)).json()) as {
      paths: Record<string, Record<string, { tags?: string[]; security?: unknown[] }>>;
    };
    for (const [path, method] of [
      ['/v1/connections', 'get'],
      ['/v1/connections/{id}', 'get'],
      ['/v1/connections/{id}', 'delete'],
    ]) {
      expect(doc.paths[path]?.[method]?.tags).toContain('connections');
      expect(doc.paths[path][method].security).toEqual([{ bearer: [] }]);
    }
  });

  it('no token appears in logs, API responses or Redis', async () => {
    expect(issued.length).toBeGreaterThanOrEqual(6);
    const logs = output.text();
    expect(logs).toContain('grant revoked at the provider');
    const responses = bodies.join('\n');
    const stored = await redisValues(redis.url, redis.prefix);
    for (const token of issued) {
      expect(logs).not.toContain(token);
      expect(responses).not.toContain(token);
      expect(stored).not.toContain(token);
    }
  });
});
