import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, TEST_API_TOKEN, type TestApp } from '../support/test-app.js';

describe('the service as a user runs it', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is live and ready against real Postgres and Redis', async () => {
    const live = await fetch(`${t.baseUrl}/health/live`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${t.baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as {
      status: string;
      info: Record<string, { status: string }>;
    };
    expect(body.status).toBe('ok');
    expect(body.info.postgres.status).toBe('up');
    expect(body.info.redis.status).toBe('up');
  });

  it('serves Swagger UI and the OpenAPI document without credentials', async () => {
    const ui = await fetch(`${t.baseUrl}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger-ui');
    const doc = (await (await fetch(`${t.baseUrl}/docs/json`)).json()) as {
      components: { securitySchemes: Record<string, { scheme: string }> };
    };
    expect(Object.values(doc.components.securitySchemes)[0].scheme).toBe('bearer');
  });

  it('guards internal routes with the bearer token', async () => {
    expect((await fetch(`${t.baseUrl}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${t.baseUrl}/metrics`, {
      headers: { authorization: 'Bearer not-the-right-token-at-all-000000' },
    });
    expect(wrong.status).toBe(401);
    const right = await fetch(`${t.baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
    });
    expect(right.status).toBe(200);
    expect(await right.text()).toContain('http_request_duration_seconds');
  });

  it('answers unknown routes and oversized bodies with 4xx, never 5xx', async () => {
    const missing = await fetch(`${t.baseUrl}/nope`, {
      headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
    });
    expect(missing.status).toBe(404);
    const big = await fetch(`${t.baseUrl}/health/live`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(big.status).toBe(413);
    const malformed = await fetch(`${t.baseUrl}/health/live`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"oops"',
    });
    expect(malformed.status).toBe(400);
  });

  it('sets security headers', async () => {
    const res = await fetch(`${t.baseUrl}/health/live`);
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
