import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Logger } from 'nestjs-pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_CONFIG } from '../config/app-config.js';
import { LoggingModule } from './logging.module.js';

describe('LoggingModule', () => {
  let app: INestApplication;

  beforeAll(async () => {
    // APP_CONFIG comes from the global CoreModule in the app; a global stand-in here.
    class FakeConfig {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        {
          module: FakeConfig,
          global: true,
          providers: [{ provide: APP_CONFIG, useValue: { logLevel: 'silent' } }],
          exports: [APP_CONFIG],
        },
        LoggingModule,
      ],
    }).compile();
    app = moduleRef.createNestApplication({ bufferLogs: true });
    app.useLogger(app.get(Logger));
    await app.init();
  });

  afterAll(() => app.close());

  it('tags each request with an id: the one the caller sent, or a new UUID', async () => {
    const response = await request(app.getHttpServer())
      .get('/anything')
      .set('x-request-id', 'from-proxy-1')
      .expect(404);
    expect(response.headers['x-request-id']).toBe('from-proxy-1');
    const fresh = await request(app.getHttpServer()).get('/anything').expect(404);
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-/);
  });

  it('leaves webhook deliveries unwrapped: no per-request logger, no request id', async () => {
    const server = app.getHttpServer();
    const delivery = await request(server).post('/v1/webhooks/slack').expect(404);
    expect(delivery.headers['x-request-id']).toBeUndefined();
    // Only those: another method on the same path, health probes and other routes are wrapped.
    for (const hit of [
      request(server).head('/v1/webhooks/trello'),
      request(server).get('/health/live'),
      request(server).post('/v1/connections/x/sync'),
    ]) {
      expect((await hit.expect(404)).headers['x-request-id']).toBeDefined();
    }
  });
});
