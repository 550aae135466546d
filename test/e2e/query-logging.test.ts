import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';

const SECRET = 'ya29.SECRET-access-token-0123456789abcdef';

/**
 * A failing statement is logged as one structured line through pino (SQL text, error code),
 * never with its bound parameters: TypeORM's own console logger printed them, so a token, a
 * ciphertext or user data passed as a parameter would have reached the logs.
 */
describe('failed queries in the logs', () => {
  let t: TestApp;
  const lines: string[] = [];
  const consoleOut: string[] = [];

  beforeAll(async () => {
    t = await startTestApp({
      env: { LOG_LEVEL: 'info' },
      configure: (config) => {
        config.logDestination = { write: (line) => void lines.push(line) };
      },
    });
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await t?.close();
  });

  it('logs the failure without any parameter, in the pino stream or on the console', async () => {
    const capture =
      (sink: string[]) =>
      (...args: unknown[]) =>
        void sink.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation(capture(consoleOut));
    }
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      consoleOut.push(String(chunk));
      return true;
    });
    const db = t.app.get(DataSource);
    // The value is echoed by Postgres's own message: invalid input syntax for type integer: "...".
    const cast = await db.query('SELECT $1::int AS n', [SECRET]).catch((e: unknown) => e);
    expect(cast).toBeInstanceOf(Error);
    // A constraint violation: Postgres's detail names the conflicting row's values.
    await db.query('CREATE TABLE secrets_probe (v text PRIMARY KEY)');
    await db.query('INSERT INTO secrets_probe VALUES ($1)', [SECRET]);
    const dup = await db
      .query('INSERT INTO secrets_probe VALUES ($1)', [SECRET])
      .catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(Error);
    vi.restoreAllMocks();

    const failures = lines.filter((l) => l.includes('query failed'));
    expect(failures).toHaveLength(2);
    expect(JSON.parse(failures[0])).toMatchObject({
      level: 'error',
      errorCode: '22P02',
      query: 'SELECT $1::int AS n',
    });
    expect(JSON.parse(failures[1])).toMatchObject({ errorCode: '23505', table: 'secrets_probe' });
    for (const text of [...lines, ...consoleOut]) expect(text).not.toContain('SECRET');
  });
});
