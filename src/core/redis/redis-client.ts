import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { AppConfig } from '../config/app-config.js';

/**
 * A connection to the service's Redis: one node (REDIS_URL) or a Redis Cluster
 * (REDIS_CLUSTER_NODES). Both run the same commands; on a cluster every command and script is
 * routed by its keys' slot, so one that names several keys must keep them in one slot (a common
 * hash tag, see docs/operations.md, "Redis Cluster").
 */
export type RedisClient = Redis | Cluster;

/** What configuration says about where Redis is. */
export type RedisTarget = Pick<AppConfig, 'redisUrl' | 'redisCluster'>;

/**
 * - `data`: the shared connection for the service's own keys (leases, state, budgets): commands
 *   fail after a couple of retries so HTTP handlers can answer 503 while Redis is away.
 * - `queue`: BullMQ's connection; BullMQ requires maxRetriesPerRequest null (blocking commands
 *   must not be retried by ioredis itself).
 * - `probe`: one PING or CONFIG GET at startup; no retry, short timeouts, connects on demand.
 * - `cli`: a command-line tool's connection; connects on demand, one retry, then fails.
 */
export type RedisPurpose = 'data' | 'queue' | 'probe' | 'cli';

const PURPOSES: Record<RedisPurpose, { node: RedisOptions; lazy: boolean; retry: boolean }> = {
  data: {
    node: { maxRetriesPerRequest: 2, connectTimeout: 2_000 },
    lazy: false,
    retry: true,
  },
  queue: { node: { maxRetriesPerRequest: null }, lazy: false, retry: true },
  probe: { node: { maxRetriesPerRequest: 0, connectTimeout: 1_000 }, lazy: true, retry: false },
  cli: { node: { maxRetriesPerRequest: 1, connectTimeout: 2_000 }, lazy: true, retry: false },
};

/**
 * The one place a Redis connection is made. On a cluster, nodes share the purpose's options
 * (redisOptions) plus REDIS_USERNAME, REDIS_PASSWORD and REDIS_TLS; a lost node is not retried on
 * its own: the cluster client refreshes the slot map and follows it (to a promoted replica).
 */
export function createRedis(target: RedisTarget, purpose: RedisPurpose): RedisClient {
  const { node, lazy, retry } = PURPOSES[purpose];
  const noRetry = () => null;
  if (!target.redisCluster) {
    return new Redis(target.redisUrl, {
      ...node,
      lazyConnect: lazy,
      ...(retry ? {} : { retryStrategy: noRetry }),
    });
  }
  const { nodes, username, password, tls } = target.redisCluster;
  const options: ClusterOptions = {
    lazyConnect: lazy,
    redisOptions: {
      ...node,
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      ...(tls ? { tls: {} } : {}),
    },
    ...(retry ? {} : { clusterRetryStrategy: noRetry }),
    // The slot map is read from a node with a short deadline at first; a busy node during a
    // failover can take longer than ioredis' 1 s default.
    slotsRefreshTimeout: 2_000,
  };
  const cluster = new Cluster(
    nodes.map((n) => ({ ...n })),
    options,
  );
  if (purpose === 'data') {
    // Like one Redis with maxRetriesPerRequest 2: once connected, a command sent while the whole
    // cluster is away fails at once (HTTP handlers answer 503) instead of waiting in the
    // client's offline queue until the cluster is back. Before the first connection commands
    // still wait, so startup work does not race the slot map.
    cluster.once('ready', () => {
      cluster.options.enableOfflineQueue = false;
    });
  }
  return cluster;
}

export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

/** Where Redis is, for messages: REDIS_URL without its password, or the cluster's seed nodes. */
export function describeRedisTarget(target: RedisTarget): string {
  if (target.redisCluster) {
    const nodes = target.redisCluster.nodes.map((n) =>
      n.host.includes(':') ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`,
    );
    return `REDIS_CLUSTER_NODES (${nodes.join(', ')})`;
  }
  return redactUrl(target.redisUrl);
}

export function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/**
 * Throws unless Redis can serve every key: PING answers PONG and, on a cluster, the node asked
 * reports `cluster_state:ok` with no slot on a failed master (CLUSTER INFO). A cluster whose
 * master died without a replica to take over reports its slots in `cluster_slots_fail` once the
 * other nodes agree it failed; commands on those slots fail meanwhile.
 */
export async function checkRedis(client: RedisClient): Promise<void> {
  const reply = await client.ping();
  if (reply !== 'PONG') throw new Error(`Unexpected PING reply: ${reply}`);
  if (!isCluster(client)) return;
  const info = parseInfo((await client.cluster('INFO')) as string);
  if (info.cluster_state !== 'ok') {
    throw new Error(`Redis Cluster state is ${info.cluster_state ?? 'unknown'}`);
  }
  const failed = Number(info.cluster_slots_fail ?? 0);
  if (failed > 0) throw new Error(`${failed} Redis Cluster slots are on a failed node`);
}

/** `key:value` lines of INFO-style replies. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0) out[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return out;
}

/**
 * Every key matching `pattern`. On a cluster SCAN walks one node only, so each master is scanned
 * in turn (a replica holds copies, not more keys). Fails rather than answer from part of a
 * cluster: every slot must be served and no master suspected down.
 */
export async function scanAll(client: RedisClient, pattern: string): Promise<string[]> {
  if (isCluster(client)) {
    await checkRedis(client);
    const info = parseInfo((await client.cluster('INFO')) as string);
    if (Number(info.cluster_slots_pfail ?? 0) > 0) {
      throw new Error('A Redis Cluster master may be down: cannot list every key');
    }
  }
  const nodes: Redis[] = isCluster(client) ? client.nodes('master') : [client];
  if (nodes.length === 0) throw new Error('No Redis Cluster master is connected');
  const keys: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
  }
  return [...new Set(keys)];
}
