import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  Injectable,
  type INestApplication,
  Req,
  UnauthorizedException,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsModule } from './metrics.module.js';
import { MetricsService } from './metrics.service.js';

// Spec files are compiled without experimentalDecorators, so Nest's decorators are applied by hand.
class DenyPrivateGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ path: string }>();
    if (req.path.startsWith('/private')) throw new UnauthorizedException();
    return true;
  }
}
Injectable()(DenyPrivateGuard);

class SampleController {
  item(req: { params: { id: string } }) {
    return { id: req.params.id };
  }

  boom(): never {
    throw new Error('boom');
  }

  secret() {
    return 'never';
  }
}
const routes: [keyof SampleController, string][] = [
  ['item', 'items/:id'],
  ['boom', 'boom'],
  ['secret', 'private'],
];
for (const [method, path] of routes) {
  const descriptor = Object.getOwnPropertyDescriptor(SampleController.prototype, method)!;
  Get(path)(SampleController.prototype, method, descriptor);
}
Req()(SampleController.prototype, 'item', 0);
Controller()(SampleController);

describe('MetricsModule over HTTP', () => {
  let app: INestApplication;
  let metrics: MetricsService;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [MetricsModule],
      controllers: [SampleController],
      providers: [{ provide: APP_GUARD, useClass: DenyPrivateGuard }],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    metrics = app.get(MetricsService);
  });

  afterAll(() => app.close());

  type Labels = Partial<Record<'method' | 'route' | 'status_code', string>>;

  async function count(labels: Labels): Promise<number> {
    const { values } = await metrics.httpRequestDuration.get();
    const match = values.find(
      (v) =>
        v.metricName === 'http_request_duration_seconds_count' &&
        (Object.keys(labels) as (keyof Labels)[]).every((key) => v.labels[key] === labels[key]),
    );
    return match?.value ?? 0;
  }

  it('records route templates, errors, guard rejections and unmatched paths', async () => {
    await request(app.getHttpServer()).get('/items/1').expect(200);
    await request(app.getHttpServer()).get('/items/2?x=1').expect(200);
    await request(app.getHttpServer()).get('/boom').expect(500);
    await request(app.getHttpServer()).get('/private').expect(401);
    await request(app.getHttpServer()).get('/nowhere/123').expect(404);

    expect(await count({ method: 'GET', route: '/items/:id', status_code: '200' })).toBe(2);
    expect(await count({ route: '/boom', status_code: '500' })).toBe(1);
    expect(await count({ route: '/private', status_code: '401' })).toBe(1);
    expect(await count({ route: 'unmatched', status_code: '404' })).toBe(1);
  });

  it('serves the registry at GET /metrics with the Prometheus content type', async () => {
    const response = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.text).toContain('http_request_duration_seconds_bucket{');
    expect(response.text).toContain('route="/items/:id"');
    expect(response.text).not.toContain('/items/1');
  });
});
