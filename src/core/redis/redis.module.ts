import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { ConnectionOptions } from 'bullmq';
import { APP_CONFIG, type ResolvedAppConfig } from '../config/app-config.js';
import { queueConnection } from '../queue/redis-connection.js';
import { createRedis, type RedisClient } from './redis-client.js';
import { QUEUE_CONNECTION, REDIS } from './redis.tokens.js';

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: ResolvedAppConfig) => createRedis(config, 'data'),
    },
    {
      provide: QUEUE_CONNECTION,
      inject: [APP_CONFIG],
      useFactory: (config: ResolvedAppConfig) => queueConnection(config),
    },
  ],
  exports: [REDIS, QUEUE_CONNECTION],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(QUEUE_CONNECTION) private readonly queueConnection: ConnectionOptions,
  ) {}

  /**
   * The queues' shared cluster client is ours to close (BullMQ leaves a client it was given
   * open); workers have drained before this (WorkerDrainService, one phase earlier).
   */
  async onApplicationShutdown(): Promise<void> {
    const clients: RedisClient[] = [this.redis];
    if (isClient(this.queueConnection)) clients.push(this.queueConnection);
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
  }
}

function isClient(connection: ConnectionOptions): connection is RedisClient {
  return typeof (connection as { quit?: unknown }).quit === 'function';
}
