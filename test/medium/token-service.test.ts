import type { INestApplicationContext } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CONNECTION_EVENTS, type ConnectionEvent } from '../../src/auth/connection-events.js';
import { ConnectionStore } from '../../src/auth/connection-store.service.js';
import { DisconnectService } from '../../src/auth/disconnect.service.js';
import { TokenService } from '../../src/auth/token.service.js';
import { ProviderError } from '@pdeck/integration-sdk';
import { CapturingLogger, redisValues } from '../support/leak-check.js';
import type { OidcServer } from '../support/oidc-server.js';
import { freePort } from '../harness/ports.js';
import {
  expireStored,
  oauthTestConfig,
  refreshRequests,
  rejection,
  startAuthContext,
  startAuthPair,
  tokenRequest,
  userinfoStatus,
  type AuthPair,
} from '../support/token-test-kit.js';

describe('TokenService against oidc-provider (rotation + reuse detection), two processes', () => {
  const logs = new CapturingLogger();
  const events: ConnectionEvent[] = [];
  let pair: AuthPair;
  let oidc: OidcServer;
  let a: INestApplicationContext;
  let b: INestApplicationContext;
  let store: ConnectionStore;
  let issued: string[];
  let prefix: string;
  const connect = (account: string) => pair.connect(account);

  beforeAll(async () => {
    pair = await startAuthPair(logs);
    ({ oidc, a, b, issued } = pair);
    prefix = pair.shared.prefix;
    store = a.get(ConnectionStore);
    for (const ctx of [a, b]) {
      ctx
        .get(EventEmitter2)
        .on(CONNECTION_EVENTS.needsReauth, (e: ConnectionEvent) => events.push(e));
    }
  });
  afterAll(async () => {
    await pair?.close();
  });

  it('50 concurrent callers in two processes cause exactly one refresh', async () => {
    const { tokens, connection } = await connect('nine');
    const expired = await expireStored(store, connection.id);
    const before = refreshRequests(oidc);

    const services = [a.get(TokenService), b.get(TokenService)];
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => services[i % 2].getCredentials(connection.id)),
    );

    expect(refreshRequests(oidc) - before).toBe(1);
    const fresh = results[0];
    issued.push(fresh.accessToken, fresh.refreshToken!);
    expect(new Set(results.map((r) => r.accessToken))).toEqual(new Set([fresh.accessToken]));
    expect(fresh.accessToken).not.toBe(tokens.access_token);
    // oidc-provider rotates: the stored refresh token is the new one, the old one is spent.
    expect(fresh.refreshToken).not.toBe(tokens.refresh_token);
    expect(Date.parse(fresh.expiresAt!)).toBeGreaterThan(Date.now() + 50 * 60_000);

    const after = await store.get(connection.id);
    expect(after.status).toBe('active');
    expect(after.tokenVersion).toBe(expired.tokenVersion + 1);
    expect(store.credentialsOf(after)).toEqual(fresh);
    expect(await userinfoStatus(oidc, fresh.accessToken)).toBe(200);

    // A fresh token is handed out without touching the token endpoint.
    expect(await services[1].getAccessToken(connection.id)).toBe(fresh.accessToken);
    expect(refreshRequests(oidc) - before).toBe(1);
    expect(await redisValues(inject('redisUrl'), prefix)).not.toContain(
      `lease:refresh:${connection.id}`,
    );
  });

  it('invalid_grant -> needs_reauth at once, one event, one token request', async () => {
    const { tokens, connection } = await connect('ten');
    // Someone spends the stored refresh token: presenting it again is reuse, and the
    // server answers invalid_grant and revokes the whole grant.
    const spent = await tokenRequest(oidc, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
    });
    issued.push(String(spent.access_token), String(spent.refresh_token));
    await expireStored(store, connection.id);
    const before = refreshRequests(oidc);
    events.length = 0;

    const services = [a.get(TokenService), b.get(TokenService)];
    const errors = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        rejection(services[i % 2].getCredentials(connection.id)),
      ),
    );
    for (const error of errors) {
      expect(error).toBeInstanceOf(ProviderError);
      expect((error as ProviderError).code).toBe('AUTH_REVOKED');
    }
    expect(refreshRequests(oidc) - before).toBe(1);
    const row = await store.get(connection.id);
    expect(row.status).toBe('needs_reauth');
    expect(row.lastError).toBe('invalid_grant');
    expect(events).toEqual([
      {
        connectionId: connection.id,
        userId: 'user-1',
        provider: 'test-oauth',
        reason: 'invalid_grant',
      },
    ]);

    const again = await rejection(services[0].getCredentials(connection.id));
    expect((again as ProviderError).code).toBe('AUTH_REVOKED');
    expect(refreshRequests(oidc) - before).toBe(1);
    expect(events).toHaveLength(1);
  });

  it('provider down: refresh -> TEMPORARY and stays active; disconnect still completes', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const down = await startAuthContext(oauthTestConfig(pair.shared, closed), logs);
    try {
      const { connection } = await connect('down');
      const expired = await expireStored(store, connection.id);
      const error = await rejection(down.get(TokenService).getCredentials(connection.id));
      expect(error).toBeInstanceOf(ProviderError);
      expect((error as ProviderError).code).toBe('TEMPORARY');
      const row = await store.get(connection.id);
      expect(row.status).toBe('active');
      expect(row.tokenVersion).toBe(expired.tokenVersion);
      // The lease was released, so the next attempt (here: a healthy process) refreshes at once.
      const fresh = await a.get(TokenService).getCredentials(connection.id);
      issued.push(fresh.accessToken, fresh.refreshToken!);
      expect(await userinfoStatus(oidc, fresh.accessToken)).toBe(200);

      // Disconnecting while the provider is unreachable still disconnects, and says so.
      const gone = await down.get(DisconnectService).disconnect(connection.id);
      expect(gone).toMatchObject({ status: 'disconnected', credentials: null });
      expect(gone.lastError).toBe('revoke_failed: TEMPORARY');
    } finally {
      await down.close();
    }
  });

  it('markNeedsReauth (API-level revocation) transitions and notifies once', async () => {
    const { connection } = await connect('slack-like');
    events.length = 0;
    const service = b.get(TokenService);
    const results = await Promise.all([
      service.markNeedsReauth(connection.id, 'token_revoked'),
      a.get(TokenService).markNeedsReauth(connection.id, 'token_revoked'),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(events.map((e) => e.reason)).toEqual(['token_revoked']);
    expect((await store.get(connection.id)).status).toBe('needs_reauth');
    const error = await rejection(service.getAccessToken(connection.id));
    expect((error as ProviderError).code).toBe('AUTH_REVOKED');
  });

  it('never writes a token into logs or Redis', async () => {
    expect(issued.length).toBeGreaterThan(8);
    expect(logs.lines.some((l) => l.includes('token refreshed'))).toBe(true);
    const logText = logs.lines.join('\n');
    const redisText = await redisValues(inject('redisUrl'), prefix);
    for (const token of issued) {
      expect(logText).not.toContain(token);
      expect(redisText).not.toContain(token);
    }
  });
});
