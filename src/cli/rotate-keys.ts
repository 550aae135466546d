import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { KeyRotationService, preflightRotation } from '../auth/key-rotation.service.js';
import type { AppConfig } from '../core/config/app-config.js';
import { ConfigError, loadConfigFromProcessEnv } from '../core/config/load-config.js';
import { createRedis } from '../core/redis/redis-client.js';
import { Keyring } from '../core/crypto/keyring.js';
import { appDataSourceOptions } from '../app.entities.js';
import { resolveDatabaseUrl } from '../core/runtime/prepare-runtime.js';
import { EmbeddedPostgresError } from '../core/database/embedded-postgres.error.js';

const USAGE = 'usage: keys:rotate [--force]';

/**
 * `npm run keys:rotate [-- --force]`: re-encrypts every stored secret under the primary key
 * (ENCRYPTION_PRIMARY_KEY_ID, else the first of ENCRYPTION_KEYS). Run it with the same
 * ENCRYPTION_KEYS and ENCRYPTION_PRIMARY_KEY_ID as the service, once the new key is promoted
 * everywhere; remove the old key once it reports failed=0. Safe next to live traffic, and to
 * repeat. It first refuses (exit 1, one line) while a running process, as published in Redis,
 * cannot decrypt the primary key; --force skips that check.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const force = args.includes('--force');
  if (args.some((a) => a !== '--force')) throw new ConfigError(USAGE);
  // Only Postgres and Redis are used: the service-only variables are not required.
  const config = loadConfigFromProcessEnv([], { service: false });
  // Without ENCRYPTION_KEYS the service falls back to a generated development key; a rotation
  // needs an explicit target, or it could re-encrypt everything under a key nobody configured.
  if (config.encryptionKeys.length === 0) {
    throw new ConfigError(
      'ENCRYPTION_KEYS must be set: its primary key is what values are rotated to',
    );
  }
  const keyring = new Keyring(config.encryptionKeys, config.encryptionPrimaryKeyId);
  if (!(await preflight(config, keyring, force))) {
    process.exitCode = 1;
    return;
  }

  const { url, stop } = await resolveDatabaseUrl(config);
  const dataSource = await new DataSource(appDataSourceOptions(url, 2)).initialize();
  try {
    const report = await new KeyRotationService(dataSource, keyring).rotateAll();
    console.log(`Primary key: ${report.primaryKid}`);
    for (const [column, c] of Object.entries(report.byColumn)) {
      console.log(
        `${column}: scanned=${c.scanned} rotated=${c.rotated} already current=${c.alreadyCurrent} retried=${c.retried} failed=${c.failed}`,
      );
    }
    if (report.failedIds.length) {
      console.error(`Rows that could not be re-encrypted: ${report.failedIds.join(', ')}`);
      process.exitCode = 1;
    }
  } finally {
    await dataSource.destroy();
    await stop();
  }
}

/** True when the rotation may go ahead; prints the verdict. */
async function preflight(config: AppConfig, keyring: Keyring, force: boolean): Promise<boolean> {
  // REDIS_URL or REDIS_CLUSTER_NODES, as the service: the entries are read from every master.
  const redis = createRedis(config, 'cli');
  let lastError: Error | undefined;
  redis.on('error', (error: Error) => (lastError = error)); // reported below, once
  try {
    await redis.connect();
    const check = await preflightRotation(redis, config.redisKeyPrefix, keyring);
    if (!check.problem) {
      for (const line of check.notes) console.log(line);
      return true;
    }
    if (!force) {
      console.error(
        `Refusing to rotate: ${check.problem}. Deploy ENCRYPTION_KEYS with "${keyring.primaryKid}" to every process first, or pass --force.`,
      );
      return false;
    }
    console.error(`Going ahead (--force) although ${check.problem}.`);
    return true;
  } catch (error) {
    const cause = lastError ?? (error as Error);
    const why = `cannot list the running processes' key ids in Redis (${cause.message})`;
    if (!force) {
      console.error(`Refusing to rotate: ${why}; pass --force to skip the check.`);
      return false;
    }
    console.error(`Going ahead without the check (--force): ${why}.`);
    return true;
  } finally {
    redis.disconnect();
  }
}

main().catch((error: unknown) => {
  // Expected failures print their one-line message; anything else is a bug worth its stack.
  const expected = error instanceof ConfigError || error instanceof EmbeddedPostgresError;
  console.error(expected ? error.message : error);
  process.exit(1);
});
