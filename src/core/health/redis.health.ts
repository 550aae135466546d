import { Inject, Injectable } from '@nestjs/common';
import { type HealthCheckAttempt, HealthIndicatorService } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import { REDIS } from '../redis/redis.tokens.js';

/** Terminus indicator for the shared ioredis connection: up when PING answers PONG in time. */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly health: HealthIndicatorService,
  ) {}

  /**
   * The timeout matters: with the offline queue on, a PING to an unreachable Redis waits for
   * reconnection retries instead of failing, and a readiness probe must answer quickly.
   */
  pingCheck<const Key extends string>(key: Key, timeoutMs = 1500): HealthCheckAttempt<Key> {
    return this.health
      .check(key)
      .attempt(async () => {
        const reply = await this.redis.ping();
        if (reply !== 'PONG') throw new Error(`Unexpected PING reply: ${reply}`);
      })
      .withTimeout(timeoutMs);
  }
}
