import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG, type ResolvedAppConfig } from '../config/app-config.js';
import { REDIS } from './redis.tokens.js';

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: ResolvedAppConfig) =>
        new Redis(config.redisUrl, {
          // Fail commands quickly while Redis is away so HTTP handlers can answer 503.
          maxRetriesPerRequest: 2,
          enableOfflineQueue: true,
          connectTimeout: 2_000,
        }),
    },
  ],
  exports: [REDIS],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
