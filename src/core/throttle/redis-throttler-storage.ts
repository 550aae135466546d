import { Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { RedisClient } from '../redis/redis-client.js';
import { withQueueTimeout } from '../queue/queue-timeout.js';

/** What ThrottlerStorage.increment answers (@nestjs/throttler's ThrottlerStorageRecord). */
export interface ThrottleRecord {
  totalHits: number;
  /** Seconds until the counting window ends. */
  timeToExpire: number;
  isBlocked: boolean;
  /** Seconds until the block ends (0 when not blocked). */
  timeToBlockExpire: number;
}

/**
 * One hit, atomically: a fixed window counter (KEYS[1], expires ARGV[1] ms after its first hit)
 * and a block flag (KEYS[2], set for ARGV[3] ms once the hits pass ARGV[2]). Both keys share a
 * hash tag, so the script is valid on Redis Cluster too.
 */
const INCREMENT = `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
local block = redis.call('PTTL', KEYS[2])
if block <= 0 and hits > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  block = tonumber(ARGV[3])
end
if block < 0 then block = 0 end
return {hits, ttl, block}
`;

/** How long a hit may wait on Redis before the request goes through unlimited. */
export const THROTTLE_REDIS_TIMEOUT_MS = 1_000;

/**
 * @nestjs/throttler's storage on the service's shared ioredis client, so every API process counts
 * against the same limits (the package's default storage is per process). A small script of our
 * own rather than a storage package: the maintained Redis storage for the throttler declares
 * peer support up to Nest 11 only, and the whole job is one atomic INCR + PEXPIRE + block flag.
 *
 * Fails open: when Redis does not answer within THROTTLE_REDIS_TIMEOUT_MS the hit is not counted
 * and the request proceeds (an outage must not turn into refused callbacks or webhooks; the OAuth
 * state lives in Redis anyway, so callbacks fail on their own then).
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger('Throttle');

  constructor(
    private readonly redis: RedisClient,
    private readonly keyPrefix: string,
  ) {}

  /** `ttl` and `blockDuration` in ms, as @nestjs/throttler passes them. */
  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottleRecord> {
    const base = `${this.keyPrefix}:throttle:${throttlerName}:{${key}}`;
    try {
      const [hits, ttlMs, blockMs] = (await withQueueTimeout(
        this.redis.eval(INCREMENT, 2, `${base}:hits`, `${base}:block`, ttl, limit, blockDuration),
        THROTTLE_REDIS_TIMEOUT_MS,
      )) as [number, number, number];
      return {
        totalHits: hits,
        timeToExpire: Math.ceil(ttlMs / 1000),
        isBlocked: blockMs > 0,
        timeToBlockExpire: Math.ceil(blockMs / 1000),
      };
    } catch (error) {
      this.logger.warn({
        msg: 'rate limit not checked: Redis unavailable',
        throttler: throttlerName,
        error: (error as Error).message,
      });
      return { totalHits: 0, timeToExpire: 0, isBlocked: false, timeToBlockExpire: 0 };
    }
  }
}
