import type { INestApplication, LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { REDIS } from '../redis/redis.tokens.js';
import { HealthModule } from './health.module.js';

interface Fakes {
  ping: () => Promise<string>;
  query: () => Promise<unknown>;
}

const never = () => new Promise<never>(() => {});

/** Every error log line, as JSON text. */
const errors: string[] = [];
const logger: LoggerService = {
  log: () => undefined,
  warn: () => undefined,
  error: (...args: unknown[]) => void errors.push(JSON.stringify(args)),
};

/** HealthModule against a fake DataSource and a fake ioredis, both global like the real ones. */
async function start(fakes: Fakes): Promise<INestApplication> {
  class FakeInfrastructure {}
  const moduleRef = await Test.createTestingModule({
    imports: [
      {
        module: FakeInfrastructure,
        global: true,
        providers: [
          { provide: REDIS, useValue: { ping: fakes.ping } },
          { provide: DataSource, useValue: { options: { type: 'postgres' }, query: fakes.query } },
        ],
        exports: [REDIS, DataSource],
      },
      HealthModule,
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger });
  await app.init();
  return app;
}

describe('HealthModule', () => {
  let app: INestApplication | undefined;
  afterEach(async () => app?.close());

  it('answers liveness without touching dependencies', async () => {
    app = await start({ ping: never, query: never });
    const response = await request(app.getHttpServer()).get('/health/live').expect(200);
    expect(response.body).toEqual({ status: 'ok' });
  });

  it('is ready when Postgres and Redis answer', async () => {
    app = await start({ ping: async () => 'PONG', query: async () => [{ '?column?': 1 }] });
    const response = await request(app.getHttpServer()).get('/health/ready').expect(200);
    expect(response.headers['cache-control']).toContain('no-store');
    expect(response.body).toMatchObject({
      status: 'ok',
      details: { postgres: { status: 'up' }, redis: { status: 'up' } },
    });
  });

  it('answers 503 when Postgres fails and when Redis does not answer in time', async () => {
    app = await start({
      ping: never,
      query: async () => {
        throw new Error('connection terminated');
      },
    });
    // Redis never answers here: the answer comes at all only because the check has a timeout.
    const response = await request(app.getHttpServer()).get('/health/ready').expect(503);
    // The public answer says what is down, not why: the why is logged.
    const down = { postgres: { status: 'down' }, redis: { status: 'down' } };
    expect(response.body).toEqual({ status: 'error', info: {}, error: down, details: down });
    const logged = errors.find((line) => line.includes('readiness check failed'));
    expect(logged).toContain('connection terminated');
    expect(logged).toContain('timeout of 1500ms exceeded');
  });
});
