import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { AppConfig, ResolvedAppConfig } from '../config/app-config.js';
import { loadOrCreateDevKey } from '../crypto/dev-key.js';
import { startEmbeddedPostgres } from '../database/embedded-postgres.js';
import { ensureRedis } from '../redis/ensure-redis.js';

export interface Runtime {
  config: ResolvedAppConfig;
  /** Stops what the runtime started itself (embedded Postgres, a development Redis). */
  stop(): Promise<void>;
}

const logger = new Logger('Runtime');

/**
 * Fills in the development defaults that need side effects: an embedded Postgres when
 * DATABASE_URL is unset, a local Redis when none answers, an encryption key and an internal API
 * token under DATA_DIR. In production config validation has already required all of them.
 */
export async function prepareRuntime(config: AppConfig): Promise<Runtime> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => undefined);
  };
  try {
    const database = await resolveDatabaseUrl(config);
    stops.push(database.stop);
    const redis = await ensureRedis(config);
    stops.push(redis.stop);
    const resolved: ResolvedAppConfig = { ...config, databaseUrl: database.url };
    if (resolved.encryptionKeys.length === 0) {
      const { entry, created } = await loadOrCreateDevKey(config.dataDir);
      const [kid, b64] = entry.split(':');
      resolved.encryptionKeys = [{ kid, key: Buffer.from(b64, 'base64') }];
      logger.warn(
        `ENCRYPTION_KEYS is unset: ${created ? 'generated' : 'using'} a development key in ${join(config.dataDir, 'encryption-key')}. Set ENCRYPTION_KEYS in production.`,
      );
    }
    if (resolved.internalApiTokens.length === 0) {
      const token = await loadOrCreateDevToken(config.dataDir);
      resolved.internalApiTokens = [token];
      // Printed on purpose, once per start, so a developer can call the internal API.
      console.log(
        `\n  INTERNAL_API_TOKENS is unset: development API token (also in ${join(config.dataDir, 'internal-api-token')}):\n  ${token}\n`,
      );
    }
    return { config: resolved, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export async function resolveDatabaseUrl(
  config: AppConfig,
): Promise<{ url: string; stop: () => Promise<void> }> {
  if (config.databaseUrl) return { url: config.databaseUrl, stop: async () => undefined };
  const embedded = await startEmbeddedPostgres(config.dataDir);
  logger.log(
    `DATABASE_URL is unset: started an embedded Postgres with its data in ${embedded.dataDir} (${new URL(embedded.url).host})`,
  );
  return embedded;
}

async function loadOrCreateDevToken(dataDir: string): Promise<string> {
  const file = join(dataDir, 'internal-api-token');
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 24) return existing;
  } catch {
    // first start: create below
  }
  await mkdir(dataDir, { recursive: true });
  const token = `dev_${randomBytes(24).toString('base64url')}`;
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return token;
}
