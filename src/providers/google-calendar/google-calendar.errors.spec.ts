import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HttpStatusError, ProviderError } from '@pdeck/integration-sdk';
import {
  mapGoogleError,
  RATE_LIMIT_BASE_MS,
  RATE_LIMIT_JITTER_MS,
} from './google-calendar.errors.js';

const BODIES = JSON.parse(
  readFileSync(new URL('./fixtures/errors.json', import.meta.url), 'utf8'),
) as Record<string, { error: { code: number } }>;

const NOW = new Date('2026-03-04T10:15:00.000Z');

function httpError(name: string, headers: Record<string, string> = {}): HttpStatusError {
  const body = BODIES[name];
  return new HttpStatusError({
    provider: 'google-calendar',
    operation: 'events.list',
    method: 'GET',
    status: body.error.code,
    url: 'https://www.googleapis.com/calendar/v3/calendars/primary/events',
    headers: new Headers({ 'content-type': 'application/json; charset=UTF-8', ...headers }),
    bodyText: JSON.stringify(body),
  });
}

const map = (name: string, headers?: Record<string, string>, random = () => 0.5) =>
  mapGoogleError(httpError(name, headers), NOW, random);

describe('mapGoogleError on the documented error bodies', () => {
  it.each([
    ['fullSyncRequired', 'CURSOR_INVALID', 'fullSyncRequired'],
    ['updatedMinTooLongAgo', 'CURSOR_INVALID', 'updatedMinTooLongAgo'],
    ['forbidden', 'PERMISSION', 'forbidden'],
    ['insufficientPermissions', 'PERMISSION', 'insufficientPermissions'],
    ['notFound', 'NOT_FOUND', 'notFound'],
    ['backendError', 'TEMPORARY', 'backendError'],
    ['badRequest', 'UNKNOWN', 'invalid'],
  ])('%s -> %s', (name, code, detail) => {
    const error = map(name);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.code).toBe(code);
    expect(error.detail).toBe(detail);
    expect(error.status).toBe(BODIES[name].error.code);
    expect(error.cause).toBeInstanceOf(HttpStatusError);
  });

  it('treats 401 authError as TEMPORARY: a refresh may fix it, needs_reauth comes from a refused refresh', () => {
    const error = map('authError');
    expect(error.code).toBe('TEMPORARY');
    expect(error.permanent).toBe(false);
    expect(error.detail).toBe('authError');
    expect(error.accessTokenRejected).toBe(true);
  });

  it.each(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded', 'rateLimit429'])(
    '%s is RATE_LIMITED, not a permission failure, with a jittered 30-60 s backoff',
    (name) => {
      const low = map(name, {}, () => 0);
      const high = map(name, {}, () => 0.999);
      expect(low.code).toBe('RATE_LIMITED');
      expect(low.retryAt!.getTime() - NOW.getTime()).toBe(RATE_LIMIT_BASE_MS);
      const spread = high.retryAt!.getTime() - NOW.getTime();
      expect(spread).toBeGreaterThan(RATE_LIMIT_BASE_MS);
      expect(spread).toBeLessThan(RATE_LIMIT_BASE_MS + RATE_LIMIT_JITTER_MS);
    },
  );

  it('honours a Retry-After header over everything else', () => {
    const error = map('userRateLimitWithRetryAfter', { 'retry-after': '120' });
    expect(error.retryAt?.toISOString()).toBe('2026-03-04T10:17:00.000Z');
  });

  it('reads "Retry after <time>" from the message when there is no header', () => {
    expect(map('userRateLimitWithRetryAfter').retryAt?.toISOString()).toBe(
      '2026-03-04T10:17:30.000Z',
    );
  });
});

describe('mapGoogleError on other failures', () => {
  it('passes ProviderErrors from the HTTP client through unchanged', () => {
    const limited = new ProviderError('RATE_LIMITED', 'HTTP 429', { retryAt: NOW });
    expect(mapGoogleError(limited)).toBe(limited);
  });

  it('classifies a 403 without a JSON body as PERMISSION and anything else as UNKNOWN', () => {
    const html = new HttpStatusError({
      provider: 'google-calendar',
      method: 'GET',
      status: 403,
      url: 'https://www.googleapis.com/calendar/v3/users/me/calendarList',
      headers: new Headers({ 'content-type': 'text/html' }),
      bodyText: '<html>Forbidden</html>',
    });
    expect(mapGoogleError(html).code).toBe('PERMISSION');
    const weird = mapGoogleError(new TypeError('boom'));
    expect(weird.code).toBe('UNKNOWN');
    expect(weird.cause).toBeInstanceOf(TypeError);
  });
});
