import type { ConnectionOptions } from 'bullmq';
import { createRedis, type RedisTarget } from '../redis/redis-client.js';

/** BullMQ connection options from a redis:// or rediss:// URL. */
export function bullConnection(redisUrl: string): ConnectionOptions {
  const url = new URL(redisUrl);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || 6379),
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    tls: url.protocol === 'rediss:' ? {} : undefined,
    // Required by BullMQ workers: blocking commands must not be retried by ioredis itself.
    maxRetriesPerRequest: null,
  };
}

/**
 * BullMQ's connection for the configured Redis. One node: options, so every queue and worker
 * opens (and closes) its own connections. A cluster: BullMQ cannot build a cluster client from
 * options, so it gets one (maxRetriesPerRequest null on every node), which the queues share and
 * each worker duplicates for its own and its blocking connection; whoever created it closes it.
 */
export function queueConnection(target: RedisTarget): ConnectionOptions {
  return target.redisCluster ? createRedis(target, 'queue') : bullConnection(target.redisUrl);
}

/**
 * Queue key prefix with a hash tag, `{pdeck}`: every key of every queue lands in one Redis
 * Cluster slot, as BullMQ's scripts need (they touch several keys of a queue at once, and a job
 * scheduler's keys with its queue's). The price is that all queue traffic goes to the one master
 * that owns the slot.
 */
export function queuePrefix(keyPrefix: string): string {
  return `{${keyPrefix}}`;
}

/**
 * Job locks of the sync and webhook workers. A worker renews its locks every half period while
 * it lives; when it dies (SIGKILL, OOM, lost host), another worker's stalled-job check finds the
 * expired lock and runs the job again. BullMQ's 30 s + 30 s defaults meant up to a minute before
 * a crashed worker's sync resumed; 15 s + 15 s halves that. Event-loop stalls of 15 s (which
 * would cause false "stalled" retries) are far beyond anything these jobs do between awaits.
 */
export const WORKER_LOCK = { lockDuration: 15_000, stalledInterval: 15_000 } as const;
