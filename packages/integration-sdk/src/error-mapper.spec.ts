import { describe, expect, it } from 'vitest';
import { createErrorMapper, jsonField } from './error-mapper.js';
import { HttpStatusError } from './http-status-error.js';
import { ProviderError } from './provider-error.js';

const answer = (status: number, body: unknown = {}, headers: Record<string, string> = {}) =>
  new HttpStatusError({
    provider: 'demo',
    operation: 'things.list',
    method: 'GET',
    status,
    url: 'https://api.demo.example/things',
    headers: new Headers({ 'content-type': 'application/json', ...headers }),
    bodyText: JSON.stringify(body),
  });

describe('createErrorMapper', () => {
  const map = createErrorMapper({
    provider: 'demo',
    detail: (json) => jsonField(json, 'error', 'code'),
  });

  it.each([
    [401, 'TEMPORARY', true],
    [403, 'PERMISSION', false],
    [404, 'NOT_FOUND', false],
    [410, 'NOT_FOUND', false],
    [408, 'TEMPORARY', false],
    [502, 'TEMPORARY', false],
    [400, 'UNKNOWN', false],
  ])('maps HTTP %i to %s by default', (status, code, tokenRejected) => {
    const error = map(answer(status, { error: { code: 'SomeCode' } }));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code, status, detail: 'SomeCode', provider: 'demo' });
    expect(error.accessTokenRejected).toBe(tokenRejected);
    expect(error.message).toContain('(SomeCode)');
    expect(error.operation).toBe('things.list');
  });

  it('reads 410 as a dead sync cursor when the provider says so', () => {
    const gone = createErrorMapper({ provider: 'demo', goneMeansCursorInvalid: true });
    expect(gone(answer(410)).code).toBe('CURSOR_INVALID');
  });

  it("lets the provider's own rules claim an answer first", () => {
    const custom = createErrorMapper({
      provider: 'demo',
      detail: (json) => jsonField(json, 'error', 'code'),
      classify: (error, base) =>
        error.status === 403 && base.detail === 'TooManyRequests'
          ? new ProviderError('RATE_LIMITED', base.message, base)
          : undefined,
    });
    expect(custom(answer(403, { error: { code: 'TooManyRequests' } })).code).toBe('RATE_LIMITED');
    expect(custom(answer(403, { error: { code: 'Forbidden' } })).code).toBe('PERMISSION');
  });

  it('builds messages without the URL when the provider says so', () => {
    const quiet = createErrorMapper({
      provider: 'demo',
      message: (error) => `demo ${error.operation}: HTTP ${error.status}`,
    });
    for (const status of [401, 404, 410, 500]) {
      const error = quiet(answer(status));
      expect(error.message).toBe(`demo things.list: HTTP ${status}`);
      expect(error.message).not.toContain('api.demo.example');
    }
  });

  it('passes a ProviderError through unchanged and makes anything else UNKNOWN', () => {
    const classified = new ProviderError('RATE_LIMITED', 'slow down');
    expect(map(classified)).toBe(classified);
    const bug = map(new TypeError('x is undefined'));
    expect(bug).toMatchObject({ code: 'UNKNOWN', provider: 'demo' });
    expect(bug.cause).toBeInstanceOf(TypeError);
  });
});

describe('jsonField', () => {
  it('reads a string by path and nothing else', () => {
    expect(jsonField({ error: { code: 'X' } }, 'error', 'code')).toBe('X');
    expect(jsonField({ error: { code: 3 } }, 'error', 'code')).toBeUndefined();
    expect(jsonField(undefined, 'error')).toBeUndefined();
    expect(jsonField({ error: 'flat' }, 'error', 'code')).toBeUndefined();
  });
});
