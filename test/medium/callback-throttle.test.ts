import { randomBytes } from 'node:crypto';
import { Controller, Get, Global, type INestApplication, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { APP_CONFIG, type ResolvedAppConfig } from '../../src/core/config/app-config.js';
import { REDIS } from '../../src/core/redis/redis.tokens.js';
import { CallbackThrottle } from '../../src/core/throttle/callback-throttle.js';
import { ThrottleModule } from '../../src/core/throttle/throttle.module.js';
import { flushPrefix } from '../support/test-services.js';

/** Shaped like the OAuth callback route; only the decorator matters. */
@Controller('v1/oauth')
class CallbackLikeController {
  @Get(':provider/callback')
  @CallbackThrottle()
  callback(): { ok: true } {
    return { ok: true };
  }

  @Get(':provider/other')
  other(): { ok: true } {
    return { ok: true };
  }
}

/**
 * @CallbackThrottle() on real Redis: OAUTH_CALLBACK_RATE_LIMIT requests per client address per
 * minute, counted across processes (two apps here, as two API instances), then 429 with
 * Retry-After; routes without the decorator are not limited.
 */
describe('@CallbackThrottle()', () => {
  const redisUrl = inject('redisUrl');
  const prefixes: string[] = [];
  const apps: INestApplication[] = [];
  const clients: Redis[] = [];

  async function start(limit: number, prefix: string): Promise<INestApplication> {
    const redis = new Redis(redisUrl);
    clients.push(redis);
    const config = { oauthCallbackRateLimit: limit, redisKeyPrefix: prefix };
    @Global()
    @Module({
      providers: [
        { provide: APP_CONFIG, useValue: config as unknown as ResolvedAppConfig },
        { provide: REDIS, useValue: redis },
      ],
      exports: [APP_CONFIG, REDIS],
    })
    class Infrastructure {}
    const moduleRef = await Test.createTestingModule({
      imports: [Infrastructure, ThrottleModule],
      controllers: [CallbackLikeController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    apps.push(app);
    return app;
  }

  const newPrefix = () => {
    const prefix = `t-throttle-${randomBytes(5).toString('hex')}`;
    prefixes.push(prefix);
    return prefix;
  };

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    for (const client of clients.splice(0)) client.disconnect();
  });
  afterAll(async () => {
    for (const prefix of prefixes) await flushPrefix(redisUrl, prefix);
  });

  it('answers 429 with Retry-After past the limit, counting across instances', async () => {
    const prefix = newPrefix();
    const [a, b] = [await start(3, prefix), await start(3, prefix)];
    expect((await request(a.getHttpServer()).get('/v1/oauth/google/callback')).status).toBe(200);
    expect((await request(b.getHttpServer()).get('/v1/oauth/google/callback')).status).toBe(200);
    const third = await request(a.getHttpServer()).get('/v1/oauth/trello/callback');
    expect(third.status).toBe(200);
    expect(third.headers['x-ratelimit-remaining']).toBe('0');
    const refused = await request(b.getHttpServer()).get('/v1/oauth/google/callback?code=x');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.body).toMatchObject({
      statusCode: 429,
      message: 'Too many requests; retry later',
    });
    // A route without the decorator is not limited.
    expect((await request(a.getHttpServer()).get('/v1/oauth/google/other')).status).toBe(200);
  });

  it('limits nothing when OAUTH_CALLBACK_RATE_LIMIT is 0', async () => {
    const app = await start(0, newPrefix());
    for (let i = 0; i < 5; i++) {
      expect((await request(app.getHttpServer()).get('/v1/oauth/google/callback')).status).toBe(
        200,
      );
    }
  });
});
