import { pino } from 'pino';
import { pinoHttp, type Options } from 'pino-http';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stripVTControlCharacters } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { buildLoggerParams } from './logger-params.js';
import { formatMessage, prettyLogStream } from './pretty-stream.js';

/** A logger configured like the app's with LOG_FORMAT=pretty, writing into an array. */
function prettyLogger() {
  const lines: string[] = [];
  const destination = { write: (text: string) => lines.push(stripVTControlCharacters(text)) };
  const options = buildLoggerParams({
    logLevel: 'info',
    logFormat: 'pretty',
    logDestination: destination,
  }).pinoHttp as Options;
  return { lines, options };
}

describe('LOG_FORMAT=pretty', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('prints one readable line per entry, with the level and Nest context, not JSON', () => {
    const { lines, options } = prettyLogger();
    const logger = pino(options, options.stream as never);
    logger.info({ context: 'SyncRunner', connectionId: 'c1' }, 'Sync run started');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[SyncRunner\] Sync run started \{"connectionId":"c1"\}\n$/,
    );
  });

  it('still redacts secrets, at every depth pino redacts them', () => {
    const { lines, options } = prettyLogger();
    const logger = pino(options, options.stream as never);
    logger.warn(
      {
        token: 'tok-1',
        params: { tokens: { accessToken: 'tok-2' } },
        response: { code: 'auth-3' },
      },
      'refresh failed',
    );
    const text = lines.join('');
    expect(text).toContain('WARN: refresh failed');
    for (const secret of ['tok-1', 'tok-2', 'auth-3']) expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  });

  it('turns an access line into method, path, status and time, without the query', async () => {
    const { lines, options } = prettyLogger();
    const log = pinoHttp(options);
    let closed!: Promise<void>;
    server = createServer((req, res) => {
      log(req, res);
      closed = new Promise((resolve) => res.once('close', () => resolve()));
      res.statusCode = 302;
      res.setHeader('location', 'https://app.example/done?connectionId=c1&confirm=secret-confirm');
      res.end();
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await fetch(`http://127.0.0.1:${port}/v1/oauth/x/callback?code=secret-code&state=s`, {
      redirect: 'manual',
      headers: { authorization: 'Bearer secret-bearer' },
    });
    await closed;
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /INFO: GET \/v1\/oauth\/x\/callback 302 \d+ ms -> https:\/\/app\.example\/done\n$/,
    );
    for (const secret of ['secret-code', 'secret-confirm', 'secret-bearer']) {
      expect(lines[0]).not.toContain(secret);
    }
  });

  it('keeps a message other than pino-http’s own after the access part', () => {
    const line = { req: { method: 'POST', url: '/v1/x' }, res: { statusCode: 500 }, msg: 'boom' };
    expect(formatMessage(line, 'msg')).toBe('POST /v1/x 500 (boom)');
    expect(formatMessage({ msg: 'plain' }, 'msg')).toBe('plain');
  });

  it('is JSON unless asked for: the default of buildLoggerParams stays one object a line', () => {
    const lines: string[] = [];
    const options = buildLoggerParams({
      logLevel: 'info',
      logDestination: { write: (text) => lines.push(text) },
    }).pinoHttp as Options;
    pino(options, options.stream as never).info({ token: 'x' }, 'hello');
    expect(JSON.parse(lines[0])).toMatchObject({
      level: 'info',
      msg: 'hello',
      token: '[redacted]',
    });
    expect(prettyLogStream).toBeTypeOf('function');
  });
});
