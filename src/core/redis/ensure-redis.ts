import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { AppConfig } from '../config/app-config.js';

const logger = new Logger('Redis');

/**
 * Makes sure a Redis answers at REDIS_URL. Outside production, when nothing answers on a loopback
 * URL and `redis-server` is installed, starts one with its data under DATA_DIR/redis. Otherwise
 * throws with instructions. Then checks maxmemory-policy: BullMQ loses jobs under eviction.
 */
export async function ensureRedis(config: AppConfig): Promise<{ stop: () => Promise<void> }> {
  let child: ChildProcess | undefined;
  if (!(await pingRedis(config.redisUrl))) {
    const url = new URL(config.redisUrl);
    const loopback = ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(url.hostname);
    if (config.nodeEnv === 'production' || !loopback) throw redisMissing(config.redisUrl);
    child = await startLocalRedis(config.dataDir, Number(url.port || 6379));
    if (!child) throw redisMissing(config.redisUrl);
    logger.log(
      `No Redis answered at ${url.host}: started redis-server with its data in ${join(config.dataDir, 'redis')}`,
    );
  }
  await checkEvictionPolicy(config.redisUrl);
  return {
    stop: async () => {
      child?.kill('SIGTERM');
    },
  };
}

export async function checkEvictionPolicy(redisUrl: string): Promise<string | undefined> {
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const reply = (await client.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply?.[1];
    if (policy && policy !== 'noeviction') {
      logger.error(
        `Redis maxmemory-policy is "${policy}", not "noeviction": under memory pressure Redis will evict queued jobs and locks. Set "maxmemory-policy noeviction".`,
      );
    }
    return policy;
  } catch {
    logger.warn(
      'Could not read Redis maxmemory-policy (CONFIG disabled?); make sure it is "noeviction".',
    );
    return undefined;
  } finally {
    client.disconnect();
  }
}

/** True when a Redis answers PING at the URL within about a second. */
export async function pingRedis(redisUrl: string): Promise<boolean> {
  const client = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

async function startLocalRedis(dataDir: string, port: number): Promise<ChildProcess | undefined> {
  const dir = resolve(join(dataDir, 'redis'));
  await mkdir(dir, { recursive: true });
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '60 1',
    '--appendonly',
    'yes',
    '--maxmemory-policy',
    'noeviction',
  ];
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  const spawned = await new Promise<boolean>((done) => {
    child.once('error', () => done(false));
    child.once('spawn', () => done(true));
  });
  if (!spawned) return undefined;
  for (let i = 0; i < 50; i++) {
    if (await pingRedis(`redis://127.0.0.1:${port}`)) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  return undefined;
}

function redisMissing(redisUrl: string): Error {
  return new Error(
    `Redis is not reachable at ${redactUrl(redisUrl)}. Install and start it (Debian/Ubuntu: "apt-get install redis-server"; macOS: "brew install redis && brew services start redis"; Docker: "docker run -p 6379:6379 redis:7 --maxmemory-policy noeviction"), or set REDIS_URL.`,
  );
}

export function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
