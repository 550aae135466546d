import type { ConnectionOptions } from 'bullmq';

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

/** Queue key prefix with a hash tag so every key of a queue lands in one Redis Cluster slot. */
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
