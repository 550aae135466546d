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

  it('builds the pino logger from APP_CONFIG and tags each request with an id', async () => {
    const response = await request(app.getHttpServer())
      .get('/anything')
      .set('x-request-id', 'from-proxy-1')
      .expect(404);
    expect(response.headers['x-request-id']).toBe('from-proxy-1');
    expect(app.get(Logger)).toBeInstanceOf(Logger);
  });
});
