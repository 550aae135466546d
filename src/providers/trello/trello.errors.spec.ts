import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HttpStatusError, ProviderError } from '@pdeck/integration-sdk';
import { mapTrelloError, OTHER_LIMIT_MS, RATE_JITTER_MS, RATE_WINDOW_MS } from './trello.errors.js';

const ERRORS = JSON.parse(
  readFileSync(new URL('./fixtures/errors.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

const NOW = new Date('2026-03-04T10:00:00.000Z');

function httpError(status: number, body: unknown, headers: Record<string, string> = {}) {
  const json = typeof body !== 'string';
  return new HttpStatusError({
    provider: 'trello',
    operation: 'boards.cards',
    method: 'GET',
    status,
    url: 'https://api.trello.com/1/boards/b1/cards/open',
    headers: new Headers({ 'content-type': json ? 'application/json' : 'text/plain', ...headers }),
    bodyText: json ? JSON.stringify(body) : body,
  });
}

/** What the shared client throws for a 429: RATE_LIMITED with its own 60 s default. */
function clientRateLimited(body: unknown): ProviderError {
  return new ProviderError('RATE_LIMITED', 'trello: HTTP 429', {
    cause: httpError(429, body),
    provider: 'trello',
    status: 429,
    retryAt: new Date(NOW.getTime() + 60_000),
  });
}

describe('mapTrelloError', () => {
  it.each([
    ['tokenLimit', 'API_TOKEN_LIMIT_EXCEEDED'],
    ['keyLimit', 'API_KEY_LIMIT_EXCEEDED'],
    ['dbLimit', 'API_TOKEN_DB_LIMIT_EXCEEDED'],
  ])('429 %s: RATE_LIMITED until the 10 s window ends, jittered, code as detail', (name, code) => {
    const low = mapTrelloError(clientRateLimited(ERRORS[name]), NOW, () => 0);
    const high = mapTrelloError(clientRateLimited(ERRORS[name]), NOW, () => 1);
    expect(low.code).toBe('RATE_LIMITED');
    expect(low.detail).toBe(code);
    expect(low.retryAt!.getTime() - NOW.getTime()).toBe(RATE_WINDOW_MS);
    expect(high.retryAt!.getTime() - NOW.getTime()).toBe(RATE_WINDOW_MS + RATE_JITTER_MS);
  });

  it('429 from /1/members or without a code waits longer', () => {
    const member = mapTrelloError(clientRateLimited(ERRORS.memberLimit), NOW, () => 0);
    expect(member.detail).toBe('MEMBER_LIMIT_EXCEEDED');
    expect(member.retryAt!.getTime() - NOW.getTime()).toBe(OTHER_LIMIT_MS);
    const bare = mapTrelloError(clientRateLimited('Too Many Requests'), NOW, () => 0);
    expect(bare.detail).toBeUndefined();
    expect(bare.retryAt!.getTime() - NOW.getTime()).toBe(OTHER_LIMIT_MS);
  });

  it('honours a Retry-After header when Trello sends one', () => {
    const error = httpError(429, ERRORS.keyLimit, { 'retry-after': '3' });
    const mapped = mapTrelloError(error, NOW, () => 0);
    expect(mapped.retryAt).toEqual(new Date(NOW.getTime() + 3_000));
  });

  it('401 invalid token: AUTH_REVOKED', () => {
    const mapped = mapTrelloError(httpError(401, ERRORS.invalidToken), NOW);
    expect(mapped.code).toBe('AUTH_REVOKED');
    expect(mapped.detail).toBe('invalid_token');
  });

  it('401 with another body: AUTH_REVOKED (any 401 means re-authorize)', () => {
    expect(mapTrelloError(httpError(401, ''), NOW).code).toBe('AUTH_REVOKED');
  });

  it('401 unauthorized permission requested: PERMISSION for that board only', () => {
    const mapped = mapTrelloError(httpError(401, ERRORS.unauthorizedPermission), NOW);
    expect(mapped.code).toBe('PERMISSION');
  });

  it.each([
    [403, 'PERMISSION'],
    [404, 'NOT_FOUND'],
    [408, 'TEMPORARY'],
    [400, 'UNKNOWN'],
  ])('HTTP %i -> %s', (status, code) => {
    expect(mapTrelloError(httpError(status, 'x'), NOW).code).toBe(code);
  });

  it('keeps what the client already classified (5xx, network) and wraps the rest', () => {
    const temporary = new ProviderError('TEMPORARY', 'trello: HTTP 502', { status: 502 });
    expect(mapTrelloError(temporary)).toBe(temporary);
    const other = mapTrelloError(new TypeError('boom'));
    expect(other.code).toBe('UNKNOWN');
    expect(other.cause).toBeInstanceOf(TypeError);
  });

  it('builds messages from the operation, never from the URL', () => {
    const mapped = mapTrelloError(httpError(404, 'not found'), NOW);
    expect(mapped.message).toBe('trello boards.cards: HTTP 404');
  });
});
