import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { RedisClient } from '../core/redis/redis-client.js';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import { REDIS } from '../core/redis/redis.tokens.js';

/**
 * Deletes the key only while it still holds our value, so a late holder never frees a successor's
 * lease. Its one key is KEYS[1], so a Redis Cluster routes it to that key's slot.
 */
const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface Lease {
  /** The random value this holder wrote; never a secret of the connection. */
  readonly fence: string;
  release(): Promise<void>;
}

/**
 * A short Redis lease per connection so only one process refreshes its token at a time. The lease
 * expires on its own (PX), so a holder that crashes blocks the others for at most `ttlMs`.
 */
@Injectable()
export class RefreshLeases {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
  ) {}

  key(connectionId: string): string {
    return `${this.config.redisKeyPrefix}:lease:refresh:${connectionId}`;
  }

  /** The lease, or null while another holder has it. Throws when Redis is unreachable. */
  async tryAcquire(connectionId: string, ttlMs: number): Promise<Lease | null> {
    const key = this.key(connectionId);
    const fence = randomBytes(16).toString('hex');
    const ok = await this.redis.set(key, fence, 'PX', ttlMs, 'NX');
    if (ok !== 'OK') return null;
    return {
      fence,
      release: async () => {
        // Best effort: if Redis is away the lease simply expires after ttlMs.
        await this.redis.eval(RELEASE_SCRIPT, 1, key, fence).catch(() => undefined);
      },
    };
  }
}
