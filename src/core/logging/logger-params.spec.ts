import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pinoHttp, type Options } from 'pino-http';
import { afterEach, describe, expect, it } from 'vitest';
import { serializeResponse } from './log-serializers.js';
import {
  buildLoggerParams,
  isHealthProbe,
  REQUEST_ID_HEADER,
  resolveRequestId,
} from './logger-params.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('resolveRequestId', () => {
  it('keeps a well-formed incoming id', () => {
    expect(resolveRequestId('abc-123')).toBe('abc-123');
    expect(resolveRequestId('a'.repeat(64))).toBe('a'.repeat(64));
  });

  it('replaces a missing, repeated, too long or odd-looking id with a UUID', () => {
    for (const bad of [undefined, '', 'a'.repeat(65), 'a b', 'x"}{', 'id_1', ['a', 'b']]) {
      expect(resolveRequestId(bad)).toMatch(UUID);
    }
  });
});

describe('isHealthProbe', () => {
  const req = (url: string, originalUrl?: string) =>
    ({ url, originalUrl }) as unknown as IncomingMessage;
  it('matches the health routes only', () => {
    expect(isHealthProbe(req('/health/live'))).toBe(true);
    expect(isHealthProbe(req('/live', '/health/live?x=1'))).toBe(true);
    expect(isHealthProbe(req('/healthy'))).toBe(false);
    expect(isHealthProbe(req('/connections'))).toBe(false);
  });
});

describe('pino-http with buildLoggerParams', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  async function request(path: string, headers: Record<string, string> = {}, method = 'GET') {
    const lines: Record<string, any>[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const options = buildLoggerParams({ logLevel: 'info' }).pinoHttp as Options;
    const log = pinoHttp(options, stream);
    let closed!: Promise<void>;
    server = createServer((req, res) => {
      log(req, res);
      // pino-http logs when the response finishes; a listener added after it runs after it.
      closed = new Promise((resolve) => res.once('close', () => resolve()));
      res.setHeader('set-cookie', 'sid=1');
      res.statusCode = path.startsWith('/missing') ? 404 : 200;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers, method });
    await response.text();
    await closed; // the server is done with the response: any log line is written by now
    return { response, lines };
  }

  it('logs the path without the query, redacts headers and echoes the request id', async () => {
    const { response, lines } = await request('/oauth/slack/callback?code=secret-code&state=s', {
      authorization: 'Bearer internal',
      [REQUEST_ID_HEADER]: 'req-42',
    });
    expect(response.headers.get(REQUEST_ID_HEADER)).toBe('req-42');
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(line.level).toBe('info');
    expect(line.req).toEqual({ id: 'req-42', method: 'GET', url: '/oauth/slack/callback' });
    // Response headers are not logged at all (cookies, redirects carrying one-time tokens).
    expect(line.res).toEqual({ statusCode: expect.any(Number) });
    expect(JSON.stringify(line)).not.toContain('secret-code');
    expect(JSON.stringify(line)).not.toContain('internal');
  });

  it('logs a redirect target without its query (one-time confirmation tokens ride there)', () => {
    const res = {
      statusCode: 302,
      headers: { location: 'https://app.example/done?connectionId=c1&confirm=one-time-token' },
    };
    expect(serializeResponse(res)).toEqual({
      statusCode: 302,
      location: 'https://app.example/done',
    });
  });

  it('logs client errors as warnings and skips health probes', async () => {
    expect((await request('/missing')).lines[0].level).toBe('warn');
    const health = await request('/health/ready');
    expect(health.lines).toHaveLength(0);
    expect(health.response.headers.get(REQUEST_ID_HEADER)).toMatch(UUID);
  });

  it('keeps acknowledged webhooks out of the info log (metrics count them); refusals stay warnings', async () => {
    expect((await request('/v1/webhooks/slack', {}, 'POST')).lines).toHaveLength(0);
    expect((await request('/missing/v1/webhooks/slack', {}, 'POST')).lines[0].level).toBe('warn');
    // Only the webhook route: other successful requests are still logged.
    expect((await request('/v1/connections', {}, 'POST')).lines[0].level).toBe('info');
  });
});
