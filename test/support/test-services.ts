import pg from 'pg';
import { Redis } from 'ioredis';
import { startEmbeddedPostgres } from '../../src/core/database/embedded-postgres.js';
import { ensureRedis } from '../../src/core/redis/ensure-redis.js';
import { parseConfig } from '../../src/core/config/load-config.js';

const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export interface TestServices {
  databaseUrl: string;
  redisUrl: string;
  stop(): Promise<void>;
}

export async function ensureTestServices(): Promise<TestServices> {
  const env = process.env;
  const stops: Array<() => Promise<void>> = [];
  let databaseUrl = env.TEST_DATABASE_URL ?? DEFAULT_DATABASE_URL;
  if (!(await postgresAnswers(databaseUrl))) {
    if (env.TEST_DATABASE_URL)
      throw new Error(`TEST_DATABASE_URL does not answer: ${env.TEST_DATABASE_URL}`);
    const embedded = await startEmbeddedPostgres('.data/test');
    databaseUrl = embedded.url;
    stops.push(embedded.stop);
  }
  const redisUrl = env.TEST_REDIS_URL ?? DEFAULT_REDIS_URL;
  const redis = await ensureRedis(parseConfig({ REDIS_URL: redisUrl, DATA_DIR: '.data/test' }));
  stops.push(redis.stop);
  return {
    databaseUrl,
    redisUrl,
    stop: async () => {
      for (const stop of stops) await stop();
    },
  };
}

async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Deletes every key under a test's Redis prefix. */
export async function flushPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    for (const pattern of [`${prefix}:*`, `{${prefix}}:*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}
