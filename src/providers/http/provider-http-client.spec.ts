import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger, type LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isProviderError, ProviderError } from '@pdeck/integration-sdk';
import { APP_CONFIG, type ResolvedAppConfig } from '../../core/config/app-config.js';
import { MetricsService } from '../../core/metrics/metrics.service.js';
import { MetricsRequestObserver } from './metrics-request-observer.js';
import { ProviderHttpClient } from './provider-http-client.js';
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  ERROR_BODY_READ_LIMIT,
  HttpStatusError,
} from '@pdeck/integration-sdk';
import { ProviderRequestObserver, type ProviderResponseInfo } from './request-observer.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const FAKE = 'https://api.example.test';
const FIXED_NOW = new Date('2024-05-01T12:00:00.000Z');

class TestClient extends ProviderHttpClient {
  clock?: Date;
  protected override now(): Date {
    return this.clock ?? super.now();
  }
}

let server: Server;
let port: number;
let handler: Handler;
let seen: Seen[];
let client: TestClient;
let metrics: MetricsService;
const logged: string[] = [];

/** Records what it is told, then fails: the client must not let telemetry break a call. */
class ThrowingObserver extends ProviderRequestObserver {
  readonly seen: ProviderResponseInfo[] = [];
  observe(info: ProviderResponseInfo): void {
    this.seen.push(info);
    throw new Error('metrics broke');
  }
}

beforeAll(async () => {
  // Captures every log line so the tests can prove no secret reaches the logs.
  const capture = (...args: unknown[]) => void logged.push(JSON.stringify(args));
  const sink: LoggerService = {
    log: capture,
    error: capture,
    warn: capture,
    debug: capture,
    verbose: capture,
  };
  Logger.overrideLogger(sink);
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      handler(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  expect(logged.join('\n')).not.toContain('SECRET');
  expect(logged.join('\n')).not.toContain('access_token');
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen = [];
  handler = (_req, res) => sendJson(res, 200, { ok: true });
  metrics = new MetricsService();
  client = new TestClient(testConfig(), new MetricsRequestObserver(metrics));
});

function testConfig(): ResolvedAppConfig {
  return {
    providerOrigins: { [FAKE]: `http://127.0.0.1:${port}` },
  } as unknown as ResolvedAppConfig;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the request to fail');
}

/** Everything an error exposes that could end up in a log line. */
function exposed(e: unknown): string {
  const err = e as Error & Record<string, unknown>;
  const fields = Object.fromEntries(Object.entries(err).filter(([k]) => k !== 'headers'));
  const cause = err.cause as (Error & Record<string, unknown>) | undefined;
  return [
    err.message,
    JSON.stringify(fields),
    cause?.message,
    cause && JSON.stringify({ ...cause, headers: undefined }),
  ].join('\n');
}

describe('ProviderHttpClient', () => {
  it('sends requests for a mapped origin to the replacement, with query params', async () => {
    const res = await client.request<{ ok: boolean }>({
      provider: 'google',
      operation: 'events.list',
      url: `${FAKE}/calendar/v3/events?existing=1`,
      query: { q: 'a b&c', n: 5, flag: true, skip: undefined, id: ['x', 'y'] },
    });
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ ok: true });
    expect(res.url).toBe(`http://127.0.0.1:${port}/calendar/v3/events`);
    expect(seen).toHaveLength(1);
    expect(seen[0].method).toBe('GET');
    const url = new URL(seen[0].url, 'http://x');
    expect(url.pathname).toBe('/calendar/v3/events');
    expect([...url.searchParams]).toEqual([
      ['existing', '1'],
      ['q', 'a b&c'],
      ['n', '5'],
      ['flag', 'true'],
      ['id', 'x'],
      ['id', 'y'],
    ]);
    expect(seen[0].headers.accept).toBe('application/json');
  });

  it('encodes JSON bodies', async () => {
    await client.request({
      provider: 'jira',
      method: 'put',
      url: `${FAKE}/rest/x`,
      json: { a: [1, 'ü'] },
    });
    expect(seen[0].method).toBe('PUT');
    expect(seen[0].headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen[0].body)).toEqual({ a: [1, 'ü'] });
  });

  it('encodes forms and defaults to POST when there is a body', async () => {
    await client.request({
      provider: 'google',
      url: `${FAKE}/token`,
      form: { grant_type: 'authorization_code', code: 'a/b+c=', skip: undefined },
      headers: { authorization: 'Basic abc' },
    });
    expect(seen[0].method).toBe('POST');
    expect(seen[0].headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(seen[0].headers.authorization).toBe('Basic abc');
    expect(Object.fromEntries(new URLSearchParams(seen[0].body))).toEqual({
      grant_type: 'authorization_code',
      code: 'a/b+c=',
    });
  });

  it('returns undefined for an empty JSON body, and text or nothing when asked', async () => {
    handler = (_req, res) => res.writeHead(204).end();
    expect((await client.request({ provider: 'p', url: `${FAKE}/a` })).data).toBeUndefined();
    handler = (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
    expect((await client.request({ provider: 'p', url: `${FAKE}/a`, expect: 'text' })).data).toBe(
      'hello',
    );
    expect(
      (await client.request({ provider: 'p', url: `${FAKE}/a`, expect: 'none' })).data,
    ).toBeUndefined();
  });

  it('maps 429 with Retry-After seconds to RATE_LIMITED', async () => {
    client.clock = FIXED_NOW;
    handler = (_req, res) => sendJson(res, 429, { error: 'slow' }, { 'retry-after': '7' });
    const e = await failure(client.request({ provider: 'slack', url: `${FAKE}/api/x` }));
    expect(e).toBeInstanceOf(ProviderError);
    const pe = e as ProviderError;
    expect(pe.code).toBe('RATE_LIMITED');
    expect(pe.status).toBe(429);
    expect(pe.provider).toBe('slack');
    expect(pe.retryAt).toEqual(new Date(FIXED_NOW.getTime() + 7000));
  });

  it('uses the real clock and a 60s default for 429 without Retry-After', async () => {
    handler = (_req, res) => sendJson(res, 429, {});
    const before = Date.now();
    const pe = (await failure(
      client.request({ provider: 'trello', url: `${FAKE}/1/x` }),
    )) as ProviderError;
    expect(pe.code).toBe('RATE_LIMITED');
    expect(pe.retryAt!.getTime()).toBeGreaterThanOrEqual(before + 60_000);
    expect(pe.retryAt!.getTime()).toBeLessThanOrEqual(Date.now() + 60_000);
  });

  it('maps 503 with an HTTP-date Retry-After to RATE_LIMITED at that date', async () => {
    client.clock = FIXED_NOW;
    handler = (_req, res) =>
      sendJson(res, 503, {}, { 'retry-after': 'Wed, 01 May 2024 12:05:00 GMT' });
    const pe = (await failure(
      client.request({ provider: 'jira', url: `${FAKE}/x` }),
    )) as ProviderError;
    expect(pe.code).toBe('RATE_LIMITED');
    expect(pe.status).toBe(503);
    expect(pe.retryAt).toEqual(new Date('2024-05-01T12:05:00.000Z'));
  });

  it('maps 500 and 503 without Retry-After to TEMPORARY', async () => {
    for (const status of [500, 503]) {
      handler = (_req, res) => sendJson(res, status, { error: 'backendError' });
      const pe = (await failure(
        client.request({ provider: 'google', url: `${FAKE}/x` }),
      )) as ProviderError;
      expect(pe.code).toBe('TEMPORARY');
      expect(pe.status).toBe(status);
      expect(pe.retryAt).toBeUndefined();
      expect((pe.cause as HttpStatusError).json).toEqual({ error: 'backendError' });
    }
  });

  it('throws HttpStatusError for other 4xx, with status, json and a query-free url', async () => {
    handler = (_req, res) => sendJson(res, 404, { error: { code: 404, message: 'Not Found' } });
    const e = await failure(
      client.request({
        provider: 'google',
        operation: 'events.get',
        url: `${FAKE}/ev/1`,
        query: { access_token: 'SECRET' },
      }),
    );
    expect(e).toBeInstanceOf(HttpStatusError);
    expect(isProviderError(e)).toBe(false);
    const he = e as HttpStatusError;
    expect(he.status).toBe(404);
    expect(he.provider).toBe('google');
    expect(he.operation).toBe('events.get');
    expect(he.json).toEqual({ error: { code: 404, message: 'Not Found' } });
    expect(he.bodyText).toContain('Not Found');
    expect(he.headers.get('content-type')).toBe('application/json');
    expect(he.url).toBe(`http://127.0.0.1:${port}/ev/1`);
    expect(exposed(he)).not.toContain('SECRET');
    expect(seen[0].url).toContain('access_token=SECRET');
  });

  it('keeps only the first 2 KB of an error body', async () => {
    handler = (_req, res) =>
      res.writeHead(400, { 'content-type': 'text/plain' }).end('x'.repeat(10_000));
    const he = (await failure(
      client.request({ provider: 'p', url: `${FAKE}/x` }),
    )) as HttpStatusError;
    expect(he.bodyText).toHaveLength(2048);
    expect(he.json).toBeUndefined();
  });

  it('maps a timeout to TEMPORARY', async () => {
    handler = () => undefined; // never answers
    const started = Date.now();
    const e = await failure(
      client.request({
        provider: 'google',
        url: `${FAKE}/slow`,
        query: { access_token: 'SECRET' },
        timeoutMs: 100,
      }),
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect((e as ProviderError).code).toBe('TEMPORARY');
    expect((e as ProviderError).message).toContain('timed out');
    expect(exposed(e)).not.toContain('SECRET');
  });

  it('maps a refused connection to TEMPORARY without leaking the query', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const e = await failure(
      client.request({ provider: 'p', url: `http://127.0.0.1:${deadPort}/x?access_token=SECRET` }),
    );
    expect((e as ProviderError).code).toBe('TEMPORARY');
    expect((e as ProviderError).message).toContain('network error');
    expect(exposed(e)).not.toContain('SECRET');
  });

  it('passes a caller abort through unchanged', async () => {
    handler = () => undefined;
    const controller = new AbortController();
    const reason = new Error('shutting down');
    setTimeout(() => controller.abort(reason), 50);
    const e = await failure(
      client.request({ provider: 'p', url: `${FAKE}/x`, signal: controller.signal }),
    );
    expect(e).toBe(reason);
  });

  it('tells the observer about every call, and survives an observer that throws', async () => {
    const observer = new ThrowingObserver();
    const throwing = new TestClient(testConfig(), observer);
    await throwing.request({
      provider: 'slack',
      operation: 'conversations.history',
      url: `${FAKE}/x`,
    });
    handler = (_req, res) => sendJson(res, 500, {});
    await failure(throwing.request({ provider: 'slack', url: `${FAKE}/x` }));
    const common = { method: 'GET', host: `127.0.0.1:${port}`, ms: expect.any(Number) };
    expect(observer.seen).toEqual([
      { ...common, provider: 'slack', operation: 'conversations.history', status: 200 },
      { ...common, provider: 'slack', operation: undefined, status: 500 },
    ]);
  });

  it('counts requests in provider_requests_total by provider, operation and status', async () => {
    await client.request({ provider: 'google', operation: 'events.list', url: `${FAKE}/x` });
    handler = (_req, res) => sendJson(res, 503, {});
    await failure(
      client.request({ provider: 'google', operation: 'events.list', url: `${FAKE}/x` }),
    );
    const text = await metrics.metrics();
    expect(text).toContain(
      'provider_requests_total{provider="google",operation="events.list",status="200"} 1',
    );
    expect(text).toContain(
      'provider_requests_total{provider="google",operation="events.list",status="503"} 1',
    );
  });

  it('maps a 2xx that is not JSON to UNKNOWN', async () => {
    handler = (_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>');
    const pe = (await failure(
      client.request({ provider: 'p', url: `${FAKE}/x` }),
    )) as ProviderError;
    expect(pe.code).toBe('UNKNOWN');
    expect(pe.detail).toBe('invalid_json');
  });

  it('logs only provider, operation, method, status, ms and host', async () => {
    logged.length = 0;
    await client.request({
      provider: 'google',
      operation: 'events.list',
      url: `${FAKE}/x`,
      query: { access_token: 'SECRET' },
    });
    expect(logged).toHaveLength(1);
    const [entry] = JSON.parse(logged[0]) as [Record<string, unknown>];
    expect(Object.keys(entry).sort()).toEqual([
      'host',
      'method',
      'ms',
      'operation',
      'provider',
      'status',
    ]);
    expect(entry).toMatchObject({
      provider: 'google',
      operation: 'events.list',
      method: 'GET',
      status: 200,
    });
  });

  it('resolves through Nest DI with APP_CONFIG and the metrics observer', async () => {
    const moduleRef = await Test.createTestingModule({
      providers: [
        ProviderHttpClient,
        MetricsService,
        { provide: ProviderRequestObserver, useClass: MetricsRequestObserver },
        { provide: APP_CONFIG, useValue: testConfig() },
      ],
    }).compile();
    const viaDi = moduleRef.get(ProviderHttpClient);
    expect((await viaDi.request({ provider: 'p', url: `${FAKE}/x` })).status).toBe(200);
    await moduleRef.close();
  });

  it("refuses a redirect with redirect: 'error', without following it or exposing Location", async () => {
    handler = (req, res) => {
      if (req.url === '/moved') return sendJson(res, 200, { followed: true });
      res.writeHead(302, { location: `http://127.0.0.1:${port}/moved?token=SECRET` }).end();
    };
    const pe = (await failure(
      client.request({
        provider: 'google',
        operation: 'token.revoke',
        url: `${FAKE}/revoke`,
        form: { token: 'SECRET' },
        redirect: 'error',
      }),
    )) as ProviderError;
    expect(pe).toBeInstanceOf(ProviderError);
    expect(pe.code).toBe('UNKNOWN');
    expect(pe.detail).toBe('redirect_refused');
    expect(pe.status).toBe(302);
    expect(pe.operation).toBe('token.revoke');
    expect(seen.map((s) => s.url)).toEqual(['/revoke']);
    expect(exposed(pe)).not.toContain('SECRET');
  });

  it('follows redirects by default', async () => {
    handler = (req, res) => {
      if (req.url === '/moved') return sendJson(res, 200, { followed: true });
      res.writeHead(301, { location: `http://127.0.0.1:${port}/moved` }).end();
    };
    const res = await client.request({ provider: 'p', url: `${FAKE}/old` });
    expect(res.data).toEqual({ followed: true });
    expect(seen.map((s) => s.url)).toEqual(['/old', '/moved']);
  });

  it('fails a body over the cap as response_too_large and stops reading it', async () => {
    // Streams without end and without Content-Length: only a reader that stops at the cap returns.
    let written = 0;
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (!res.destroyed && written < 64 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      res.write('[');
      pump();
    };
    const pe = (await failure(
      client.request({
        provider: 'p',
        operation: 'events.list',
        url: `${FAKE}/big`,
        timeoutMs: 60_000,
      }),
    )) as ProviderError;
    expect(pe).toBeInstanceOf(ProviderError);
    expect(pe.code).toBe('UNKNOWN');
    expect(pe.detail).toBe('response_too_large');
    expect(pe.operation).toBe('events.list');
    expect(pe.message).toContain(`larger than ${DEFAULT_MAX_RESPONSE_BYTES} bytes`);
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it('fails at once on a Content-Length over the cap, and takes a per-request cap', async () => {
    handler = (_req, res) => sendJson(res, 200, { pad: 'x'.repeat(2000) });
    const pe = (await failure(
      client.request({ provider: 'p', url: `${FAKE}/x`, maxResponseBytes: 1000 }),
    )) as ProviderError;
    expect(pe.detail).toBe('response_too_large');
    const big = 'y'.repeat(DEFAULT_MAX_RESPONSE_BYTES);
    handler = (_req, res) => sendJson(res, 200, { big });
    const res = await client.request<{ big: string }>({
      provider: 'p',
      url: `${FAKE}/x`,
      maxResponseBytes: 2 * DEFAULT_MAX_RESPONSE_BYTES,
    });
    expect(res.data.big).toHaveLength(DEFAULT_MAX_RESPONSE_BYTES);
  });

  it('reads at most 64 KiB of an error body, endless or not, and still classifies it', async () => {
    handler = (_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(ERROR_BODY_READ_LIMIT, 0x65);
      const pump = () => {
        while (!res.destroyed) if (!res.write(chunk)) return void res.once('drain', pump);
      };
      pump();
    };
    const he = (await failure(
      client.request({ provider: 'p', url: `${FAKE}/x`, timeoutMs: 60_000 }),
    )) as HttpStatusError;
    expect(he).toBeInstanceOf(HttpStatusError);
    expect(he.status).toBe(404);
    expect(he.bodyText).toBe('e'.repeat(2048));
  });

  it('rejects more than one body kind', async () => {
    await expect(
      client.request({ provider: 'p', url: `${FAKE}/x`, json: {}, body: 'x' }),
    ).rejects.toThrow(/only one/);
  });
});
