import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConnectionStore } from '../../src/auth/connection-store.service.js';
import { preflightRotation } from '../../src/auth/key-rotation.service.js';
import { TokenService } from '../../src/auth/token.service.js';
import { parseConfig } from '../../src/core/config/load-config.js';
import { KeyPresencePublisher } from '../../src/core/crypto/key-presence.js';
import { DecryptionError, Keyring } from '../../src/core/crypto/keyring.js';
import { CapturingLogger } from '../support/leak-check.js';
import { startOidcServer, type OidcServer } from '../support/oidc-server.js';
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
} from '../support/token-test-kit.js';

const OLD = newKey('old');
const NEW = newKey('new');

interface Cli {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A rolling key rotation across processes that share Postgres and Redis: A runs the old
 * configuration (old key only), B has the new key deployed decrypt-only (old still primary), C
 * has it promoted. Values C writes are readable by B; A cannot read them, and `keys:rotate` sees
 * A and refuses until A is gone.
 */
describe('key rotation during a rolling restart', () => {
  const prefix = `t${randomBytes(5).toString('hex')}`;
  const logger = new CapturingLogger();
  const contexts: INestApplicationContext[] = [];
  let oidc: OidcServer;
  let database: TestDatabase;
  let redis: Redis;

  const start = async (keys: string, primary?: string) => {
    const env: Record<string, string> = primary ? { ENCRYPTION_PRIMARY_KEY_ID: primary } : {};
    const config = oauthTestConfig({ databaseUrl: database.url, prefix, keys }, oidc.origin, env);
    const ctx = await startAuthContext(config, logger);
    contexts.push(ctx);
    return ctx;
  };
  const kidOf = async (id: string): Promise<string> => {
    const [row] = await contexts[0]
      .get(DataSource)
      .query<{ credentials: string }[]>('SELECT credentials FROM connections WHERE id = $1', [id]);
    return row.credentials.split('.')[1];
  };
  /** `npm run keys:rotate` as an operator runs it (no NODE_ENV, a DATABASE_URL: production). */
  const rotateCli = (): Promise<Cli> =>
    new Promise((resolve) => {
      const tsx = join(process.cwd(), 'node_modules/tsx/dist/cli.mjs');
      const env = {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: database.url,
        REDIS_URL: inject('redisUrl'),
        REDIS_KEY_PREFIX: prefix,
        ENCRYPTION_KEYS: `${OLD},${NEW}`,
        ENCRYPTION_PRIMARY_KEY_ID: 'new',
      };
      execFile(
        process.execPath,
        [tsx, 'src/cli/rotate-keys.ts'],
        { env, timeout: 60_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    oidc = await startOidcServer({ ...CLIENT, redirectUris: [MANUAL_REDIRECT] });
    database = await createTestDatabase(inject('databaseUrl'));
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    for (const ctx of contexts) await ctx.close();
    redis?.disconnect();
    await oidc?.close();
    await flushPrefix(inject('redisUrl'), prefix);
    await database?.drop();
  });

  it('C writes with the new key, B reads it, and keys:rotate refuses while A lacks it', async () => {
    const a = await start(OLD);
    oidc.setAccount('rolling-1');
    const busy = await seedConnection(a.get(ConnectionStore), await issueTokens(oidc), 'u', 'r-1');
    oidc.setAccount('rolling-2');
    const idle = await seedConnection(a.get(ConnectionStore), await issueTokens(oidc), 'u', 'r-2');

    // Phase 1: the new key deployed decrypt-only. B writes with the old key: A still reads it.
    const b = await start(`${OLD},${NEW}`, 'old');
    await expireStored(b.get(ConnectionStore), busy.id);
    expect(await kidOf(busy.id)).toBe('old');
    const stillOld = a
      .get(ConnectionStore)
      .credentialsOf(await a.get(ConnectionStore).get(busy.id));
    expect(Date.parse(stillOld.expiresAt!)).toBeLessThan(Date.now());

    // Phase 2: C promoted. Its refresh stores the new tokens under the new key; B reads them
    // without refreshing again.
    const c = await start(`${OLD},${NEW}`, 'new');
    const refreshesBefore = refreshRequests(oidc);
    const refreshed = await c.get(TokenService).getCredentials(busy.id);
    expect(refreshRequests(oidc)).toBe(refreshesBefore + 1);
    expect(await kidOf(busy.id)).toBe('new');
    expect(await b.get(TokenService).getCredentials(busy.id)).toEqual(refreshed);
    expect(refreshRequests(oidc)).toBe(refreshesBefore + 1);

    // A cannot read it. That is a key problem, not the user's: the connection stays active, no
    // token request is sent, and the error log names the key id.
    const error = await a
      .get(TokenService)
      .getCredentials(busy.id)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecryptionError);
    expect((await a.get(ConnectionStore).get(busy.id)).status).toBe('active');
    expect(refreshRequests(oidc)).toBe(refreshesBefore + 1);
    const logged = logger.lines.find((l) => l.includes('stored credentials do not decrypt'));
    expect(logged).toContain('"kid":"new"');
    expect(logged).toContain(busy.id);
    expect(logger.lines.join('\n')).not.toContain(refreshed.accessToken);

    // The rotation check sees A (and only A) as unable to decrypt what the rotation writes.
    const ids = (ctx: INestApplicationContext) => ctx.get(KeyPresencePublisher).processId;
    const target = new Keyring(
      parseConfig({ ENCRYPTION_KEYS: `${OLD},${NEW}`, ENCRYPTION_PRIMARY_KEY_ID: 'new' })
        .encryptionKeys,
      'new',
    );
    const refused = await preflightRotation(redis, prefix, target);
    expect(refused.problem).toMatch(/^1 running process cannot decrypt key "new": all /);
    expect(refused.problem).toContain(ids(a));
    expect(refused.problem).not.toContain(ids(b));
    expect(refused.problem).not.toContain(ids(c));

    // The command refuses too: exit 1, one line, nothing rewritten.
    const cli = await rotateCli();
    expect(cli.code).toBe(1);
    expect(cli.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^Refusing to rotate: 1 running process cannot decrypt key "new": /),
    ]);
    expect(cli.stderr).toContain(ids(a));
    expect(await kidOf(idle.id)).toBe('old');

    // The rolling restart finishes: A stops (its entry goes with it), B is still up.
    await a.close();
    contexts.splice(contexts.indexOf(a), 1);
    const ready = await preflightRotation(redis, prefix, target);
    expect(ready.problem).toBeUndefined();
    expect(ready.notes).toEqual([
      'All 2 running processes can decrypt key "new".',
      expect.stringMatching(/^Note: 1 running process still encrypts with "old": /),
    ]);

    const rotated = await rotateCli();
    expect(rotated.stderr).toBe('');
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toContain('connections.credentials: scanned=2 rotated=1');
    expect(await kidOf(idle.id)).toBe('new');
    // Every process still running reads every row.
    for (const ctx of [b, c]) {
      for (const id of [busy.id, idle.id]) {
        expect((await ctx.get(TokenService).getCredentials(id)).accessToken).toBeTruthy();
      }
    }
  }, 90_000);
});
