import { Global, Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import type { RedisClient } from '../redis/redis-client.js';
import { APP_CONFIG, type ResolvedAppConfig } from '../config/app-config.js';
import { REDIS } from '../redis/redis.tokens.js';
import {
  CallbackThrottleGuard,
  OAUTH_CALLBACK_THROTTLER,
  OAUTH_CALLBACK_WINDOW_MS,
} from './callback-throttle.js';
import { RedisThrottlerStorage } from './redis-throttler-storage.js';
import { VerificationFailureLimiter } from './verification-failure-limiter.js';

/**
 * Rate limits shared by every process through Redis: @nestjs/throttler with one named throttler
 * (OAuth callbacks, applied per route with @CallbackThrottle()) and the failure limiter of
 * webhook verification. No global guard: nothing else is limited.
 */
@Global()
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [APP_CONFIG, REDIS],
      useFactory: (config: ResolvedAppConfig, redis: RedisClient) => ({
        throttlers: [
          {
            name: OAUTH_CALLBACK_THROTTLER,
            ttl: OAUTH_CALLBACK_WINDOW_MS,
            limit: config.oauthCallbackRateLimit,
            skipIf: () => config.oauthCallbackRateLimit === 0,
          },
        ],
        storage: new RedisThrottlerStorage(redis, config.redisKeyPrefix),
        errorMessage: 'Too many requests; retry later',
      }),
    }),
  ],
  providers: [CallbackThrottleGuard, VerificationFailureLimiter],
  exports: [CallbackThrottleGuard, VerificationFailureLimiter],
})
export class ThrottleModule {}
