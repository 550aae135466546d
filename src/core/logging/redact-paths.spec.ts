import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { serializeError, serializeRequest, stripQueryString } from './log-serializers.js';
import { REDACT_CENSOR, REDACT_PATHS, SECRET_KEYS } from './redact-paths.js';

/** A pino logger configured like the app's, writing JSON lines into an array. */
function collectingLogger() {
  const lines: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const logger = pino(
    {
      redact: { paths: [...REDACT_PATHS], censor: REDACT_CENSOR },
      serializers: { err: serializeError },
    },
    stream,
  );
  const last = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    return lines.at(-1)!;
  };
  return { logger, last };
}

describe('REDACT_PATHS', () => {
  it('hides every secret key at the top level and one, two and three objects down', async () => {
    const { logger, last } = collectingLogger();
    for (const key of SECRET_KEYS) {
      logger.info({
        [key]: 's0',
        a: { [key]: 's1', b: { [key]: 's2', c: { [key]: 's3' } } },
      });
      const line = await last();
      expect(line[key], key).toBe(REDACT_CENSOR);
      expect(line.a[key], key).toBe(REDACT_CENSOR);
      expect(line.a.b[key], key).toBe(REDACT_CENSOR);
      expect(line.a.b.c[key], key).toBe(REDACT_CENSOR);
      expect(JSON.stringify(line)).not.toMatch(/"s[0-3]"/);
    }
  });

  it('reaches into arrays and the params object of Nest logger calls', async () => {
    const { logger, last } = collectingLogger();
    logger.info({ params: { tokens: { access_token: 'at', refresh_token: 'rt' } } });
    expect((await last()).params.tokens).toEqual({
      access_token: REDACT_CENSOR,
      refresh_token: REDACT_CENSOR,
    });
    logger.info({ list: [{ clientSecret: 'cs' }, { oauth_verifier: 'ov' }] });
    expect((await last()).list).toEqual([
      { clientSecret: REDACT_CENSOR },
      { oauth_verifier: REDACT_CENSOR },
    ]);
  });

  it('hides credential headers on requests and set-cookie on responses', async () => {
    const { logger, last } = collectingLogger();
    logger.info({
      req: {
        headers: {
          authorization: 'Bearer abc',
          cookie: 'sid=1',
          'x-slack-signature': 'v0=abc',
          'x-goog-channel-token': 'chan',
          accept: 'application/json',
        },
      },
      res: { headers: { 'set-cookie': ['sid=2'], 'content-type': 'text/plain' } },
    });
    const line = await last();
    expect(line.req.headers).toEqual({
      authorization: REDACT_CENSOR,
      cookie: REDACT_CENSOR,
      'x-slack-signature': REDACT_CENSOR,
      'x-goog-channel-token': REDACT_CENSOR,
      accept: 'application/json',
    });
    expect(line.res.headers).toEqual({ 'set-cookie': REDACT_CENSOR, 'content-type': 'text/plain' });
  });

  it('leaves ordinary fields alone and keeps an error code as errorCode', async () => {
    const { logger, last } = collectingLogger();
    const err = Object.assign(new Error('connect refused'), { code: 'ECONNREFUSED' });
    logger.error({ err, connectionId: 'c1', provider: 'jira' }, 'failed');
    const line = await last();
    expect(line).toMatchObject({ connectionId: 'c1', provider: 'jira', msg: 'failed' });
    expect(line.err).toMatchObject({ type: 'Error', message: 'connect refused' });
    expect(line.err.errorCode).toBe('ECONNREFUSED');
    expect(line.err.code).toBeUndefined();
  });
});

describe('request serializer', () => {
  it('keeps id, method and the path without its query string', () => {
    const serialized = serializeRequest({
      id: 'r1',
      method: 'GET',
      url: '/oauth/google/callback?code=4/0Ab-secret&state=xyz',
      headers: { authorization: 'Bearer abc' },
      query: { code: '4/0Ab-secret' },
    } as Parameters<typeof serializeRequest>[0]);
    expect(serialized).toEqual({ id: 'r1', method: 'GET', url: '/oauth/google/callback' });
  });

  it('strips query strings and fragments, keeps plain paths', () => {
    expect(stripQueryString('/a/b')).toBe('/a/b');
    expect(stripQueryString('/a?x=1')).toBe('/a');
    expect(stripQueryString('/a#frag')).toBe('/a');
    expect(stripQueryString('/?')).toBe('/');
    expect(stripQueryString(undefined)).toBeUndefined();
  });
});

describe('error serializer', () => {
  it("drops a failed query's bound parameters and keeps its SQL", () => {
    const err = Object.assign(new Error('invalid byte sequence'), {
      query: 'SELECT 1 FROM items WHERE user_id = $1',
      parameters: ['user-secret-value'],
    });
    const serialized = serializeError(err) as Record<string, unknown>;
    expect(serialized.query).toBe('SELECT 1 FROM items WHERE user_id = $1');
    expect(serialized).not.toHaveProperty('parameters');
    expect(JSON.stringify(serialized)).not.toContain('user-secret-value');
  });

  it('passes non-objects through and accepts an already serialized error', () => {
    expect(serializeError('boom')).toBe('boom');
    expect(serializeError({ type: 'Error', message: 'm', code: '23505' })).toEqual({
      type: 'Error',
      message: 'm',
      errorCode: '23505',
    });
  });
});
