import { ENTITIES } from '../../src/app.entities.js';
import { createHash, randomBytes } from 'node:crypto';
import type { DynamicModule, INestApplicationContext, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { inject } from 'vitest';
import { AuthModule } from '../../src/auth/auth.module.js';
import { ConnectionStore } from '../../src/auth/connection-store.service.js';
import type { Connection } from '../../src/auth/entities/connection.entity.js';
import type { ResolvedAppConfig } from '../../src/core/config/app-config.js';
import { parseConfig } from '../../src/core/config/load-config.js';
import { CoreModule } from '../../src/core/core.module.js';
import { ProvidersModule } from '../../src/providers/providers.module.js';
import { followConsent, startOidcServer, type OidcServer } from './oidc-server.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';
import { flushPrefix } from './test-services.js';
import { TEST_OAUTH_ID, TEST_OAUTH_ORIGIN, TestOAuthProvider } from './test-oauth-provider.js';
import { storeActiveConnection } from './active-connection.js';

export const CLIENT = {
  clientId: 'pdeck-test-client',
  clientSecret: 'pdeck-test-secret-0123456789',
};
/** Where the hand-driven authorize flow returns to; never contacted, followConsent stops there. */
export const MANUAL_REDIRECT = 'http://127.0.0.1:9/manual-callback';

export interface IssuedTokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

/** A service configuration with the test-oauth integration enabled and pointed at `oidcOrigin`. */
export function oauthTestConfig(
  shared: { databaseUrl: string; prefix: string; keys: string },
  oidcOrigin: string,
  env: Record<string, string> = {},
): ResolvedAppConfig {
  const config = parseConfig({
    NODE_ENV: 'test',
    REDIS_URL: inject('redisUrl'),
    REDIS_KEY_PREFIX: shared.prefix,
    ENCRYPTION_KEYS: shared.keys,
    INTERNAL_API_TOKENS: 'test-internal-token-0123456789abcdef',
    LOG_LEVEL: 'debug',
    PROVIDER_ORIGINS: JSON.stringify({ [TEST_OAUTH_ORIGIN]: oidcOrigin }),
    ...env,
  });
  config.providerCredentials[TEST_OAUTH_ID] = { ...CLIENT };
  return { ...config, databaseUrl: shared.databaseUrl };
}

export function newKey(kid: string): string {
  return `${kid}:${randomBytes(32).toString('base64')}`;
}

/** Core + providers + Auth only: one "process" of the service, without HTTP or queues. */
export async function startAuthContext(
  config: ResolvedAppConfig,
  logger: LoggerService,
): Promise<INestApplicationContext> {
  const root: DynamicModule = {
    module: class AuthTestRoot {},
    imports: [
      CoreModule.forRoot(config, ENTITIES),
      ProvidersModule.forRoot([TestOAuthProvider]),
      AuthModule,
    ],
  };
  const context = await NestFactory.createApplicationContext(root, { logger });
  return context.init();
}

/**
 * Drives an authorization-code + PKCE grant at oidc-provider by hand, like a user consenting
 * and a client redeeming the code, for tests that need tokens without the connect flow.
 */
export async function issueTokens(oidc: OidcServer): Promise<IssuedTokens> {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(`${oidc.origin}/auth`);
  url.search = new URLSearchParams({
    client_id: CLIENT.clientId,
    redirect_uri: MANUAL_REDIRECT,
    response_type: 'code',
    scope: 'openid email tasks.read',
    prompt: 'consent',
    state: randomBytes(8).toString('hex'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  const back = await followConsent(url.toString(), new URL(MANUAL_REDIRECT).origin);
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`authorize failed: ${back.search}`);
  const body = await tokenRequest(oidc, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: MANUAL_REDIRECT,
    code_verifier: verifier,
  });
  if (typeof body.refresh_token !== 'string')
    throw new Error(`code exchange failed: ${String(body.error)}`);
  return body as unknown as IssuedTokens;
}

/** A raw token endpoint call; resolves the JSON body whatever the status. */
export async function tokenRequest(
  oidc: OidcServer,
  params: Record<string, string>,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${oidc.origin}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      ...params,
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
    }),
  });
  return (await res.json()) as Record<string, unknown>;
}

/** Status of GET /me (userinfo) with this access token: 200 while the grant lives. */
export async function userinfoStatus(oidc: OidcServer, accessToken: string): Promise<number> {
  const res = await fetch(`${oidc.origin}/me`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  await res.body?.cancel();
  return res.status;
}

export function refreshRequests(oidc: OidcServer): number {
  return oidc.tokenRequests.filter((r) => r.grantType === 'refresh_token').length;
}

/** Stores a fresh grant as a connection, the way the connect flow does after the exchange. */
export async function seedConnection(
  store: ConnectionStore,
  tokens: IssuedTokens,
  userId: string,
  accountId: string,
): Promise<Connection> {
  const { connection } = await storeActiveConnection(store, {
    userId,
    provider: TEST_OAUTH_ID,
    identity: { accountId, label: `${accountId}@example.test` },
    credentials: {
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      expiresAt: new Date(Date.now() + tokens.expires_in * 1000).toISOString(),
    },
    scopes: ['openid', 'email', 'tasks.read'],
  });
  return connection;
}

/** Moves the stored expiry into the past (through the same CAS a refresh uses). */
export async function expireStored(store: ConnectionStore, id: string): Promise<Connection> {
  const row = await store.get(id);
  const creds = store.credentialsOf(row);
  const past = new Date(Date.now() - 60_000).toISOString();
  if (!(await store.swapCredentials(id, row.tokenVersion, { ...creds, expiresAt: past }))) {
    throw new Error('expireStored lost a race');
  }
  return store.get(id);
}

/** The rejection of `p`, or undefined when it resolves: for asserting on the error itself. */
export const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

/**
 * Two auth "processes" sharing a fresh database, one Redis prefix and one encryption key, in
 * front of an oidc-provider that rotates refresh tokens and detects their reuse.
 */
export interface AuthPair {
  oidc: OidcServer;
  database: TestDatabase;
  shared: { databaseUrl: string; prefix: string; keys: string };
  a: INestApplicationContext;
  b: INestApplicationContext;
  /** Every token issued through `connect`, for leak checks. */
  issued: string[];
  /** A real grant of `account` stored as a connection of user-1 (through process a's store). */
  connect(account: string): Promise<{ tokens: IssuedTokens; connection: Connection }>;
  close(): Promise<void>;
}

export async function startAuthPair(logger: LoggerService): Promise<AuthPair> {
  const oidc = await startOidcServer({ ...CLIENT, redirectUris: [MANUAL_REDIRECT] });
  const database = await createTestDatabase(inject('databaseUrl'));
  const prefix = `t${randomBytes(5).toString('hex')}`;
  const shared = { databaseUrl: database.url, prefix, keys: newKey('k1') };
  const a = await startAuthContext(oauthTestConfig(shared, oidc.origin), logger);
  const b = await startAuthContext(oauthTestConfig(shared, oidc.origin), logger);
  const issued: string[] = [];
  return {
    oidc,
    database,
    shared,
    a,
    b,
    issued,
    connect: async (account) => {
      oidc.setAccount(account);
      const tokens = await issueTokens(oidc);
      issued.push(tokens.access_token, tokens.refresh_token);
      const connection = await seedConnection(a.get(ConnectionStore), tokens, 'user-1', account);
      return { tokens, connection };
    },
    close: async () => {
      await a.close();
      await b.close();
      await oidc.close();
      await flushPrefix(inject('redisUrl'), prefix);
      await database.drop();
    },
  };
}
