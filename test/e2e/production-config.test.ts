import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '@pdeck/integration-sdk/testing';
import { startTestApp, TEST_API_TOKEN, type TestApp } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The HTTP app as production runs it (NODE_ENV=production, every required variable set): the
 * API docs need the internal token, and the public readiness probe tells what is down, not why.
 */
describe('production: docs behind the token, readiness without details', () => {
  let database: TestDatabase;
  let t: TestApp;
  const logs: string[] = [];

  /** Runs SQL on the server's maintenance database (not the app's). */
  const admin = async (sql: string, params: unknown[] = []): Promise<void> => {
    const client = new pg.Client({ connectionString: inject('databaseUrl') });
    await client.connect();
    try {
      await client.query(sql, params);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'));
    t = await startTestApp({
      database,
      env: { NODE_ENV: 'production', DATABASE_URL: database.url, LOG_LEVEL: 'info' },
      configure: (config) => {
        config.logDestination = { write: (line) => void logs.push(line) };
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await admin(`ALTER DATABASE ${database.name} ALLOW_CONNECTIONS true`).catch(() => undefined);
    await database?.drop();
  });

  it('refuses /docs without the internal token and serves it with the token', async () => {
    expect(t.config.nodeEnv).toBe('production');
    for (const path of ['/docs', '/docs/json', '/docs/yaml']) {
      const refused = await fetch(`${t.baseUrl}${path}`);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toContain('Basic realm=');
      expect(await refused.text()).not.toContain('openapi');
      const wrong = await fetch(`${t.baseUrl}${path}`, {
        headers: { authorization: 'Bearer not-the-internal-token-0123456789' },
      });
      expect(wrong.status).toBe(401);
    }
    const bearer = { authorization: `Bearer ${TEST_API_TOKEN}` };
    const ui = await fetch(`${t.baseUrl}/docs`, { headers: bearer });
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger-ui');
    const doc = await fetch(`${t.baseUrl}/docs/json`, { headers: bearer });
    expect(((await doc.json()) as { openapi: string }).openapi).toMatch(/^3\./);
    // What a browser sends after its login prompt: the token as the password.
    const basic = `Basic ${Buffer.from(`operator:${TEST_API_TOKEN}`).toString('base64')}`;
    expect((await fetch(`${t.baseUrl}/docs`, { headers: { authorization: basic } })).status).toBe(
      200,
    );
  });

  it('answers /health/ready with each dependency status only, and logs the reason', async () => {
    const up = await fetch(`${t.baseUrl}/health/ready`);
    expect(up.status).toBe(200);
    const healthy = { postgres: { status: 'up' }, redis: { status: 'up' } };
    expect(await up.json()).toEqual({ status: 'ok', info: healthy, error: {}, details: healthy });

    // Postgres refuses the app's database: existing sessions end, new ones are turned away.
    await admin(`ALTER DATABASE ${database.name} ALLOW_CONNECTIONS false`);
    await admin(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [database.name],
    );
    try {
      const down = await fetch(`${t.baseUrl}/health/ready`);
      expect(down.status).toBe(503);
      const text = await down.text();
      expect(JSON.parse(text)).toEqual({
        status: 'error',
        info: { redis: { status: 'up' } },
        error: { postgres: { status: 'down' } },
        details: { postgres: { status: 'down' }, redis: { status: 'up' } },
      });
      expect(text).not.toContain(database.name);
      const logged = logs.find((l) => l.includes('readiness check failed'));
      expect(logged).toBeDefined();
      expect(JSON.parse(logged!)).toMatchObject({
        level: 'error',
        postgres: { status: 'down', message: expect.any(String) },
      });
    } finally {
      await admin(`ALTER DATABASE ${database.name} ALLOW_CONNECTIONS true`);
    }
    await eventually(
      async () => ((await fetch(`${t.baseUrl}/health/ready`)).status === 200 ? true : undefined),
      'readiness once Postgres accepts connections again',
    );
  });
});
