import { randomBytes } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { aad, ConnectionStore } from '../../src/auth/connection-store.service.js';
import { KeyRotationService } from '../../src/auth/key-rotation.service.js';
import { TokenService } from '../../src/auth/token.service.js';
import { DecryptionError, Keyring } from '../../src/core/crypto/keyring.js';
import { parseConfig } from '../../src/core/config/load-config.js';
import type { ConnectionCredentials } from '@pdeck/integration-sdk';
import { until } from '@pdeck/integration-sdk/testing';
import { CapturingLogger } from '../support/leak-check.js';
import { startOidcServer, type OidcServer } from '../support/oidc-server.js';
import { seedSubscriptions, subscriptionAad, Traffic } from '../support/rotation-traffic.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { flushPrefix } from '../support/test-services.js';
import {
  CLIENT,
  expireStored,
  issueTokens,
  MANUAL_REDIRECT,
  newKey,
  oauthTestConfig,
  refreshRequests,
  seedConnection,
  startAuthContext,
  userinfoStatus,
} from '../support/token-test-kit.js';
import { storeActiveConnection } from '../support/active-connection.js';

const SYNTHETIC = 200;
const SUBSCRIPTIONS = 20;
const keyringOf = (keys: string) =>
  new Keyring(parseConfig({ ENCRYPTION_KEYS: keys }).encryptionKeys);

describe('encrypted credentials', () => {
  const prefix = `t${randomBytes(5).toString('hex')}`;
  const OLD = newKey('old');
  const NEW = newKey('new');
  const contexts: INestApplicationContext[] = [];
  let oidc: OidcServer;
  let database: TestDatabase;
  let shared: { databaseUrl: string; prefix: string; keys: string };

  const start = async (keys: string) => {
    const ctx = await startAuthContext(
      oauthTestConfig({ ...shared, keys }, oidc.origin),
      new CapturingLogger(),
    );
    contexts.push(ctx);
    return ctx;
  };
  const realConnection = async (store: ConnectionStore, account: string) => {
    oidc.setAccount(account);
    return seedConnection(store, await issueTokens(oidc), 'user-11', account);
  };

  beforeAll(async () => {
    oidc = await startOidcServer({ ...CLIENT, redirectUris: [MANUAL_REDIRECT] });
    database = await createTestDatabase(inject('databaseUrl'));
    shared = { databaseUrl: database.url, prefix, keys: OLD };
  });
  afterAll(async () => {
    for (const ctx of contexts) await ctx.close();
    await oidc?.close();
    await flushPrefix(inject('redisUrl'), prefix);
    await database?.drop();
  });

  it('a ciphertext copied to another row fails to decrypt, and nothing is sent', async () => {
    const ctx = await start(OLD);
    const store = ctx.get(ConnectionStore);
    const a = await realConnection(store, 'row-a');
    const b = await realConnection(store, 'row-b');
    await expireStored(store, b.id);
    await ctx
      .get(DataSource)
      .query(
        'UPDATE connections SET credentials = (SELECT credentials FROM connections WHERE id = $1) WHERE id = $2',
        [a.id, b.id],
      );
    const before = refreshRequests(oidc);
    const error = await ctx
      .get(TokenService)
      .getCredentials(b.id)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecryptionError);
    expect(refreshRequests(oidc)).toBe(before);
    expect((await ctx.get(TokenService).getCredentials(a.id)).accessToken).toBeTruthy();
    // The tampered row would (rightly) count as a failure in the rotation below.
    await store.delete(b.id);
  });

  it('rotation under live traffic loses no row; the service then runs on the new key alone', async () => {
    const old = await start(OLD);
    const oldStore = old.get(ConnectionStore);
    const real = [];
    for (let i = 0; i < 3; i++) real.push((await realConnection(oldStore, `live-${i}`)).id);
    const expected = new Map<string, ConnectionCredentials>();
    const seed = async (i: number) => {
      const credentials = { accessToken: `synthetic-${i}-0`, extras: { site: `s${i}` } };
      const { connection } = await storeActiveConnection(oldStore, {
        userId: 'user-11',
        provider: 'test-oauth',
        scopes: [],
        identity: { accountId: `synthetic-${i}`, label: `Synthetic ${i}` },
        credentials,
      });
      expected.set(connection.id, { ...credentials, extras: { site: `s${i}` } });
    };
    for (let i = 0; i < SYNTHETIC; i += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, j) => seed(i + j)));
    }
    const secrets = await seedSubscriptions(
      old.get(DataSource),
      keyringOf(OLD),
      real[0],
      SUBSCRIPTIONS,
    );

    // Two processes already deployed with the new key first and the old one still readable.
    const [p1, p2] = [await start(`${NEW},${OLD}`), await start(`${NEW},${OLD}`)];
    const traffic = new Traffic(p1, p2, real, [...expected.keys()], expected);
    const running = traffic.run();
    // Rotate only once the traffic is really flowing: a refresh and a rewrite have gone through.
    await until(() => traffic.refreshes > 0 && traffic.writes > 0, 'traffic to flow', 30_000);
    const writesBefore = traffic.writes;
    const report = await new KeyRotationService(
      p1.get(DataSource),
      keyringOf(`${NEW},${OLD}`),
    ).rotateAll();
    const writesDuring = traffic.writes - writesBefore;
    traffic.stop();
    await running;

    expect(traffic.errors).toEqual([]);
    // Credentials were rewritten while the rotation ran, not only before it.
    expect(writesDuring).toBeGreaterThan(0);
    expect(report.total.failed).toBe(0);
    // Writers really raced the rotation: some compare-and-swaps were lost and re-read.
    expect(report.byColumn['connections.credentials'].retried).toBeGreaterThan(0);
    expect(report.byColumn['connections.credentials'].scanned).toBe(SYNTHETIC + real.length + 1);
    expect(report.byColumn['webhook_subscriptions.secret']).toMatchObject({
      scanned: SUBSCRIPTIONS,
      rotated: SUBSCRIPTIONS,
    });
    const c = report.total;
    expect(c.rotated + c.alreadyCurrent).toBe(c.scanned);

    // Every secret now decrypts with a keyring that holds only the new key, with its latest value.
    const onlyNew = keyringOf(NEW);
    const rows: { id: string; credentials: string }[] = await p1
      .get(DataSource)
      .query('SELECT id, credentials FROM connections WHERE credentials IS NOT NULL');
    expect(rows).toHaveLength(SYNTHETIC + real.length + 1);
    for (const row of rows) {
      const value = onlyNew.decryptJson<ConnectionCredentials>(row.credentials, aad(row.id));
      if (expected.has(row.id)) expect(value).toEqual(expected.get(row.id));
    }
    const subs: { id: string; secret: string }[] = await p1
      .get(DataSource)
      .query('SELECT id, secret FROM webhook_subscriptions');
    expect(subs.map((s) => onlyNew.decrypt(s.secret, subscriptionAad(s.id))).sort()).toEqual(
      [...secrets].sort(),
    );

    // A process configured without the old key reads, refreshes and uses every connection.
    const fresh = await start(NEW);
    const tokens = fresh.get(TokenService);
    for (const row of rows) expect((await tokens.getCredentials(row.id)).accessToken).toBeTruthy();
    for (const id of real) {
      await expireStored(fresh.get(ConnectionStore), id);
      expect(await userinfoStatus(oidc, await tokens.getAccessToken(id))).toBe(200);
    }
    expect(
      (await new KeyRotationService(p1.get(DataSource), onlyNew).rotateAll()).total,
    ).toMatchObject({
      rotated: 0,
      failed: 0,
      alreadyCurrent: SYNTHETIC + real.length + 1 + SUBSCRIPTIONS,
    });
  }, 90_000);
});
