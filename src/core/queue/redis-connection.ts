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
