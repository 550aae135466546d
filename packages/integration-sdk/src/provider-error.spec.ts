import { describe, expect, it } from 'vitest';
import { isProviderError, PERMANENT_CODES, ProviderError } from './provider-error.js';

describe('ProviderError', () => {
  it('carries code, options and cause', () => {
    const cause = new Error('socket hang up');
    const retryAt = new Date('2030-01-01T00:00:00Z');
    const e = new ProviderError('RATE_LIMITED', 'slow down', {
      cause,
      provider: 'google',
      status: 429,
      retryAt,
      detail: 'rateLimitExceeded',
    });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ProviderError');
    expect(e.message).toBe('slow down');
    expect(e.code).toBe('RATE_LIMITED');
    expect(e.provider).toBe('google');
    expect(e.status).toBe(429);
    expect(e.retryAt).toBe(retryAt);
    expect(e.detail).toBe('rateLimitExceeded');
    expect(e.cause).toBe(cause);
    expect(e.permanent).toBe(false);
  });

  it('works without options', () => {
    const e = new ProviderError('UNKNOWN', 'x');
    expect(e.provider).toBeUndefined();
    expect(e.cause).toBeUndefined();
    expect(String(e)).toBe('ProviderError: x');
  });

  it('classifies permanent codes', () => {
    expect([...PERMANENT_CODES].sort()).toEqual(['AUTH_REVOKED', 'NOT_FOUND', 'PERMISSION']);
    expect(new ProviderError('AUTH_REVOKED', 'x').permanent).toBe(true);
    for (const code of ['RATE_LIMITED', 'TEMPORARY', 'CURSOR_INVALID', 'UNKNOWN'] as const) {
      expect(PERMANENT_CODES.has(code)).toBe(false);
    }
  });

  it('isProviderError narrows', () => {
    expect(isProviderError(new ProviderError('TEMPORARY', 'x'))).toBe(true);
    expect(isProviderError(new Error('x'))).toBe(false);
    expect(isProviderError({ code: 'TEMPORARY' })).toBe(false);
    expect(isProviderError(undefined)).toBe(false);
  });
});
