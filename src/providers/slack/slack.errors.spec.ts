import { describe, expect, it } from 'vitest';
import { HttpStatusError } from '@pdeck/integration-sdk';
import { mapSlackApiError, mapSlackHttpError } from './slack.errors.js';

const NOW = new Date('2030-01-01T00:00:00.000Z');

function status(code: number, headers: Record<string, string> = {}): HttpStatusError {
  return new HttpStatusError({
    provider: 'slack',
    operation: 'conversations.history',
    method: 'GET',
    status: code,
    url: 'https://slack.com/api/conversations.history',
    headers: new Headers(headers),
    bodyText: '{"ok":false,"error":"ratelimited"}',
  });
}

describe('Slack errors', () => {
  it.each([
    ['invalid_auth', 'AUTH_REVOKED'],
    ['account_inactive', 'AUTH_REVOKED'],
    ['token_revoked', 'AUTH_REVOKED'],
    ['not_authed', 'AUTH_REVOKED'],
    ['missing_scope', 'PERMISSION'],
    ['not_in_channel', 'NOT_FOUND'],
    ['channel_not_found', 'NOT_FOUND'],
    ['invalid_cursor', 'CURSOR_INVALID'],
    ['internal_error', 'TEMPORARY'],
    ['something_new', 'UNKNOWN'],
  ])('maps ok:false %s to %s', (error, code) => {
    const mapped = mapSlackApiError('conversations.history', { ok: false, error }, NOW);
    expect(mapped.code).toBe(code);
    expect(mapped.detail).toBe(error);
    expect(mapped.operation).toBe('conversations.history');
  });

  it('an expired rotating token is retried after a refresh, not sent to reconnect', () => {
    const mapped = mapSlackApiError('auth.test', { ok: false, error: 'token_expired' }, NOW);
    expect(mapped).toMatchObject({ code: 'TEMPORARY', accessTokenRejected: true });
  });

  it('names the missing scope, and never echoes an error that is not a short code', () => {
    const scope = mapSlackApiError('conversations.list', {
      ok: false,
      error: 'missing_scope',
      needed: 'groups:read',
    });
    expect(scope.message).toBe('slack conversations.list: missing_scope (needs groups:read)');
    const odd = mapSlackApiError('auth.test', { ok: false, error: 'xoxb-1234 leaked token text' });
    expect(odd.message).not.toContain('xoxb');
    expect(odd.code).toBe('UNKNOWN');
    expect(mapSlackApiError('auth.test', undefined).code).toBe('UNKNOWN');
  });

  it("a 429 waits Slack's Retry-After for that method only", () => {
    const mapped = mapSlackHttpError(
      status(429, { 'retry-after': '30' }),
      'conversations.history',
      NOW,
    );
    expect(mapped).toMatchObject({
      code: 'RATE_LIMITED',
      rateLimitScope: 'method',
      operation: 'conversations.history',
    });
    expect(mapped.retryAt).toEqual(new Date(NOW.getTime() + 30_000));
    const bare = mapSlackHttpError(status(429), 'conversations.replies', NOW);
    expect(bare.retryAt).toEqual(new Date(NOW.getTime() + 60_000));
    const body = mapSlackApiError('users.info', { ok: false, error: 'ratelimited' }, NOW);
    expect(body).toMatchObject({ code: 'RATE_LIMITED', rateLimitScope: 'method' });
  });
});
