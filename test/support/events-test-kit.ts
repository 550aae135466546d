import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BullModule } from '@nestjs/bullmq';
import type { DynamicModule } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { Test, type TestingModule } from '@nestjs/testing';
import { inject } from 'vitest';
import { ENTITIES } from '../../src/app.entities.js';
import { APP_CONFIG, type ResolvedAppConfig } from '../../src/core/config/app-config.js';
import { parseConfig } from '../../src/core/config/load-config.js';
import { DatabaseModule } from '../../src/core/database/database.module.js';
import { MetricsService } from '../../src/core/metrics/metrics.service.js';
import { bullConnection, queuePrefix } from '../../src/core/queue/redis-connection.js';
import { PDECK_EVENTS_BACKOFF_BASE_MS } from '../../src/events/events.constants.js';
import { EventsWorkerModule } from '../../src/events/events-worker.module.js';
import { EventsModule } from '../../src/events/events.module.js';
import { verifyStandardWebhook } from '../../src/events/standard-webhooks.js';

export interface ReceivedEvent {
  headers: IncomingHttpHeaders;
  body: string;
  valid: boolean;
  answered: number;
}

/** A PDeck stand-in: verifies every request on its own and answers from a script (then 200). */
export class PdeckReceiver {
  readonly requests: ReceivedEvent[] = [];
  script: number[] = [];
  private server!: Server;
  url = '';

  constructor(private readonly secret: string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const valid = verifyStandardWebhook(req.headers, body, this.secret);
        const answered = valid ? (this.script.shift() ?? 200) : 401;
        this.requests.push({ headers: req.headers, body, valid, answered });
        res.writeHead(answered).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/events`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Configuration of an events test: its own Redis key prefix, the given database and Redis. */
export function eventsTestConfig(
  env: Record<string, string>,
  databaseUrl: string,
): ResolvedAppConfig {
  const config = parseConfig({
    NODE_ENV: 'test',
    REDIS_URL: inject('redisUrl'),
    REDIS_KEY_PREFIX: `t${randomBytes(5).toString('hex')}`,
    ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    INTERNAL_API_TOKENS: 'test-internal-token-0123456789abcdef',
    LOG_LEVEL: 'silent',
    ...env,
  });
  return { ...config, databaseUrl };
}

/**
 * EventsModule (`worker: false`: what an api process has, recording only) or EventsWorkerModule
 * (relay and delivery too) on real Postgres (migrated) and Redis, with what CoreModule would
 * provide globally reduced to what they need. Retries are shortened to 50 ms.
 */
export async function startEventsModule(
  config: ResolvedAppConfig,
  worker: boolean,
): Promise<TestingModule> {
  const configModule: DynamicModule = {
    module: class EventsTestConfigModule {},
    global: true,
    providers: [{ provide: APP_CONFIG, useValue: config }, MetricsService],
    exports: [APP_CONFIG, MetricsService],
  };
  const moduleRef = await Test.createTestingModule({
    imports: [
      configModule,
      EventEmitterModule.forRoot(),
      BullModule.forRoot({
        connection: bullConnection(config.redisUrl),
        prefix: queuePrefix(config.redisKeyPrefix),
      }),
      DatabaseModule.forRoot(ENTITIES),
      worker ? EventsWorkerModule : EventsModule,
    ],
  })
    .overrideProvider(PDECK_EVENTS_BACKOFF_BASE_MS)
    .useValue(50)
    .compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  return moduleRef;
}
