import { Inject, Injectable } from '@nestjs/common';
import { type HealthCheckAttempt, HealthIndicatorService } from '@nestjs/terminus';
import { checkRedis, type RedisClient } from '../redis/redis-client.js';
import { REDIS } from '../redis/redis.tokens.js';

/**
 * Terminus indicator for the shared Redis connection: up when PING answers PONG in time and, on a
 * Redis Cluster, every slot is served (checkRedis).
 */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly health: HealthIndicatorService,
  ) {}

  /**
   * The timeout matters: with the offline queue on, a PING to an unreachable Redis waits for
   * reconnection retries instead of failing, and a readiness probe must answer quickly.
   */
  pingCheck<const Key extends string>(key: Key, timeoutMs = 1500): HealthCheckAttempt<Key> {
    return this.health
      .check(key)
      .attempt(() => checkRedis(this.redis))
      .withTimeout(timeoutMs);
  }
}
