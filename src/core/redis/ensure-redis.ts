import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../config/app-config.js';
import {
  createRedis,
  describeRedisTarget,
  isCluster,
  parseInfo,
  type RedisClient,
  type RedisTarget,
  redactUrl,
} from './redis-client.js';

export { redactUrl } from './redis-client.js';

const logger = new Logger('Redis');

/**
 * Makes sure a Redis answers at REDIS_URL. Outside production, when nothing answers on a loopback
 * URL and `redis-server` is installed, starts one with its data under DATA_DIR/redis. Otherwise
 * throws with instructions. With REDIS_CLUSTER_NODES nothing is ever started: the cluster must
 * answer. Then checks maxmemory-policy (on every master of a cluster): BullMQ loses jobs under
 * eviction.
 */
export async function ensureRedis(config: AppConfig): Promise<{ stop: () => Promise<void> }> {
  if (config.redisCluster) {
    const problem = await clusterProblem(config);
    if (problem) throw clusterMissing(config, problem);
    await checkEvictionPolicy(config);
    return { stop: async () => undefined };
  }
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
  await checkEvictionPolicy(config);
  return {
    stop: async () => {
      child?.kill('SIGTERM');
    },
  };
}

/**
 * Reads maxmemory-policy from the Redis (every master of a cluster: each holds its own part of
 * the queues) and logs an error for any that may evict. Returns the policies read, by node
 * (`host:port`); a node whose CONFIG is disabled (managed services) is left out with a warning.
 */
export async function checkEvictionPolicy(
  target: RedisTarget | string,
): Promise<Record<string, string>> {
  const resolved: RedisTarget = typeof target === 'string' ? { redisUrl: target } : target;
  const client = createRedis(resolved, 'probe');
  client.on('error', () => undefined);
  const policies: Record<string, string> = {};
  try {
    await client.connect();
    const nodes: Redis[] = isCluster(client) ? client.nodes('master') : [client];
    for (const node of nodes) {
      const name = `${node.options.host}:${node.options.port}`;
      try {
        const reply = (await node.config('GET', 'maxmemory-policy')) as string[];
        const policy = reply?.[1];
        if (policy) policies[name] = policy;
        if (policy && policy !== 'noeviction') {
          logger.error(
            `Redis maxmemory-policy is "${policy}"${nodes.length > 1 ? ` on ${name}` : ''}, not "noeviction": under memory pressure Redis will evict queued jobs and locks. Set "maxmemory-policy noeviction".`,
          );
        }
      } catch {
        logger.warn(
          `Could not read Redis maxmemory-policy${nodes.length > 1 ? ` on ${name}` : ''} (CONFIG disabled?); make sure it is "noeviction".`,
        );
      }
    }
  } catch {
    logger.warn(
      'Could not read Redis maxmemory-policy (CONFIG disabled?); make sure it is "noeviction".',
    );
  } finally {
    client.disconnect();
  }
  return policies;
}

/** True when a Redis answers PING at the URL within about a second. */
export async function pingRedis(redisUrl: string): Promise<boolean> {
  const client = createRedis({ redisUrl }, 'probe');
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

/**
 * Why the cluster cannot be used, or undefined when it answers: its slot map can be read and
 * PING answers. When it cannot, each seed node is asked on its own, so the message says what
 * each one answered (refused, a password error, a Redis without cluster mode).
 */
async function clusterProblem(target: RedisTarget): Promise<string | undefined> {
  const client: RedisClient = createRedis(target, 'probe');
  client.on('error', () => undefined);
  try {
    await client.connect();
    if ((await client.ping()) !== 'PONG') return 'PING did not answer PONG';
    const info = parseInfo((await client.cluster('INFO')) as string);
    if (info.cluster_state !== 'ok') {
      // Started anyway: what still has its slots works, and the rest recovers with the cluster.
      logger.warn(
        `Redis Cluster state is "${info.cluster_state ?? 'unknown'}": keys on failed slots are unavailable until it recovers`,
      );
    }
    return undefined;
  } catch {
    return (await Promise.all(target.redisCluster!.nodes.map((n) => seedProblem(target, n)))).join(
      '; ',
    );
  } finally {
    client.disconnect();
  }
}

/** What one seed node answers to CLUSTER INFO on a connection of its own. */
async function seedProblem(
  target: RedisTarget,
  node: { host: string; port: number },
): Promise<string> {
  const { username, password, tls } = target.redisCluster!;
  const address = node.host.includes(':')
    ? `[${node.host}]:${node.port}`
    : `${node.host}:${node.port}`;
  const url = new URL(`${tls ? 'rediss' : 'redis'}://${address}`);
  if (username) url.username = encodeURIComponent(username);
  if (password) url.password = encodeURIComponent(password);
  const client = createRedis({ redisUrl: url.toString() }, 'probe');
  // The socket's own error (ECONNREFUSED...) says more than "Connection is closed".
  let socketError: Error | undefined;
  client.on('error', (error: Error) => (socketError ??= error));
  try {
    await client.connect();
    const info = parseInfo((await client.cluster('INFO')) as string);
    return `${address} answers (cluster_state ${info.cluster_state ?? 'unknown'})`;
  } catch (error) {
    return `${address}: ${(socketError ?? (error as Error)).message.replace(/\.+$/, '')}`;
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

function clusterMissing(target: RedisTarget, problem: string): Error {
  return new Error(
    `Redis Cluster is not usable at ${describeRedisTarget(target)}: ${problem}. Check that the nodes answer, run with "cluster-enabled yes" and that REDIS_USERNAME, REDIS_PASSWORD and REDIS_TLS match them; for a single Redis set REDIS_URL instead.`,
  );
}
