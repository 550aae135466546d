import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { ConnectionOptions } from 'bullmq';
import { ConfigModule } from '@nestjs/config';
import { DiscoveryModule } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { APP_CONFIG, type ResolvedAppConfig } from './config/app-config.js';
import { CryptoModule } from './crypto/crypto.module.js';
import type { EntityList } from './database/data-source-options.js';
import { DatabaseModule } from './database/database.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { queuePrefix } from './queue/redis-connection.js';
import { WorkerDrainService } from './queue/worker-drain.service.js';
import { RedisModule } from './redis/redis.module.js';
import { QUEUE_CONNECTION } from './redis/redis.tokens.js';
import { ThrottleModule } from './throttle/throttle.module.js';

/** Process-wide infrastructure: configuration, Postgres, Redis, queues, crypto, logs, metrics. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(config: ResolvedAppConfig, entities: EntityList): DynamicModule {
    const configProvider = { provide: APP_CONFIG, useValue: config };
    return {
      module: CoreModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          load: [() => ({ app: config })],
        }),
        EventEmitterModule.forRoot({ wildcard: false, ignoreErrors: false }),
        // The connection comes from RedisModule: one Redis or a cluster client it also closes.
        BullModule.forRootAsync({
          imports: [RedisModule],
          inject: [QUEUE_CONNECTION],
          useFactory: (connection: ConnectionOptions) => ({
            connection,
            prefix: queuePrefix(config.redisKeyPrefix),
          }),
        }),
        LoggingModule,
        MetricsModule,
        DatabaseModule.forRoot(entities),
        RedisModule,
        ThrottleModule,
        CryptoModule,
        DiscoveryModule,
      ],
      providers: [configProvider, WorkerDrainService],
      exports: [configProvider],
    };
  }
}
