import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_MS, HttpStatusError, ProviderError } from '@pdeck/integration-sdk';
import { JIRA_ID } from './jira.catalog.js';
import {
  HEADER_JITTER_MAX_MS,
  mapJiraError,
  MESSAGE_TEXT_LIMIT,
  RATE_LIMIT_BASE_MS,
  RATE_LIMIT_JITTER_MS,
} from './jira.errors.js';

const BODIES = JSON.parse(
  readFileSync(new URL('./fixtures/errors.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

const NOW = new Date('2026-03-04T10:15:20.000Z');
const URL_ = 'https://api.atlassian.com/ex/jira/cloud-1/rest/api/3/search/jql';

function httpError(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpStatusError {
  const json = typeof body !== 'string';
  return new HttpStatusError({
    provider: JIRA_ID,
    operation: 'search.jql',
    method: 'POST',
    status,
    url: URL_,
    headers: new Headers({ 'content-type': json ? 'application/json' : 'text/html', ...headers }),
    bodyText: json ? JSON.stringify(body) : body,
  });
}

/** What the shared client throws for a 429: RATE_LIMITED with its own flat 60 s default. */
function clientRateLimited(headers: Record<string, string> = {}, status = 429): ProviderError {
  return new ProviderError('RATE_LIMITED', `jira search.jql: POST ${URL_}: HTTP ${status}`, {
    cause: httpError(status, BODIES.rateLimited, headers),
    provider: JIRA_ID,
    status,
    retryAt: new Date(NOW.getTime() + 60_000),
  });
}

const waitMs = (e: ProviderError) => e.retryAt!.getTime() - NOW.getTime();
const limited = (headers: Record<string, string>, random = () => 0) =>
  mapJiraError(clientRateLimited(headers), NOW, random);

describe('mapJiraError on rate limits: when to retry', () => {
  it('Retry-After wins over Beta-Retry-After and X-RateLimit-Reset', () => {
    const e = limited({
      'retry-after': '7',
      'beta-retry-after': '900',
      'x-ratelimit-reset': '2026-03-04T11:00Z',
    });
    expect(e.code).toBe('RATE_LIMITED');
    expect(waitMs(e)).toBe(7_000);
  });

  it('Beta-Retry-After is read when there is no Retry-After, and wins over X-RateLimit-Reset', () => {
    const e = limited({ 'beta-retry-after': '900', 'x-ratelimit-reset': '2026-03-04T11:00Z' });
    expect(waitMs(e)).toBe(900_000);
  });

  it('an unreadable Retry-After falls through to the next header', () => {
    const e = limited({ 'retry-after': 'soon', 'beta-retry-after': '42' });
    expect(waitMs(e)).toBe(42_000);
  });

  it('X-RateLimit-Reset alone: waits to the end of the named minute, never early', () => {
    expect(limited({ 'x-ratelimit-reset': '2026-03-04T10:17Z' }).retryAt).toEqual(
      new Date('2026-03-04T10:18:00.000Z'),
    );
    // The current minute is still a future reset once read as its end.
    expect(limited({ 'x-ratelimit-reset': '2026-03-04T10:15Z' }).retryAt).toEqual(
      new Date('2026-03-04T10:16:00.000Z'),
    );
  });

  it.each([
    ['a stale reset', '2026-03-04T10:14Z'],
    ['a reset in another format', '1772619360'],
    ['a reset with seconds', '2026-03-04T10:17:30Z'],
  ])('%s is ignored: the base backoff applies', (_name, reset) => {
    expect(waitMs(limited({ 'x-ratelimit-reset': reset }))).toBe(RATE_LIMIT_BASE_MS);
  });

  it('without any header: 30 s plus up to 30 s of jitter', () => {
    expect(waitMs(limited({}, () => 0))).toBe(RATE_LIMIT_BASE_MS);
    expect(waitMs(limited({}, () => 0.5))).toBe(RATE_LIMIT_BASE_MS + RATE_LIMIT_JITTER_MS / 2);
    expect(waitMs(limited({}, () => 1))).toBe(RATE_LIMIT_BASE_MS + RATE_LIMIT_JITTER_MS);
  });

  it('jitter on a header wait is 0-20% of it', () => {
    expect(waitMs(limited({ 'retry-after': '10' }, () => 0))).toBe(10_000);
    expect(waitMs(limited({ 'retry-after': '10' }, () => 0.5))).toBe(11_000);
    expect(waitMs(limited({ 'retry-after': '10' }, () => 1))).toBe(12_000);
    // Out-of-range randoms are clamped, never shortening the wait or exceeding 20%.
    expect(waitMs(limited({ 'retry-after': '10' }, () => -3))).toBe(10_000);
    expect(waitMs(limited({ 'retry-after': '10' }, () => 7))).toBe(12_000);
  });

  it('jitter on a header wait is capped at 5 s', () => {
    expect(waitMs(limited({ 'retry-after': '120' }, () => 1))).toBe(120_000 + HEADER_JITTER_MAX_MS);
    expect(waitMs(limited({ 'beta-retry-after': '3600' }, () => 0.5))).toBe(
      3_600_000 + HEADER_JITTER_MAX_MS,
    );
  });

  it('jitter also applies to a reset-based wait', () => {
    // 40 s to the end of 10:15, 20% = 8 s, capped at 5 s.
    expect(waitMs(limited({ 'x-ratelimit-reset': '2026-03-04T10:15Z' }, () => 1))).toBe(
      40_000 + HEADER_JITTER_MAX_MS,
    );
  });

  it('never waits longer than MAX_RETRY_AFTER_MS, jitter included', () => {
    expect(waitMs(limited({ 'retry-after': '999999' }, () => 1))).toBe(MAX_RETRY_AFTER_MS);
    expect(waitMs(limited({ 'beta-retry-after': '999999' }, () => 1))).toBe(MAX_RETRY_AFTER_MS);
  });
});

describe('mapJiraError on rate limits: whose budget ran out', () => {
  it.each(['jira-quota-tenant-based', 'jira-quota-global-based'])(
    'RateLimit-Reason %s (the hourly points quota) pauses the provider: app scope',
    (reason) => {
      const e = limited({ 'retry-after': '5', 'ratelimit-reason': reason });
      expect(e.rateLimitScope).toBe('app');
      expect(e.detail).toBe(reason);
      expect(e.message).toContain(reason);
    },
  );

  it.each(['jira-burst-based', 'jira-per-issue-on-write'])(
    'RateLimit-Reason %s pauses this connection only',
    (reason) => {
      const e = limited({ 'retry-after': '5', 'ratelimit-reason': reason });
      expect(e.rateLimitScope).toBe('connection');
      expect(e.detail).toBe(reason);
    },
  );

  it('reads X-Beta-RateLimit-Reason when RateLimit-Reason is absent', () => {
    const e = limited({ 'x-beta-ratelimit-reason': 'jira-quota-tenant-based' });
    expect(e.rateLimitScope).toBe('app');
    expect(e.detail).toBe('jira-quota-tenant-based');
  });

  it('RateLimit-Reason wins over X-Beta-RateLimit-Reason', () => {
    const e = limited({
      'ratelimit-reason': 'jira-burst-based',
      'x-beta-ratelimit-reason': 'jira-quota-tenant-based',
    });
    expect(e.rateLimitScope).toBe('connection');
    expect(e.detail).toBe('jira-burst-based');
  });

  it('no reason, or one that is not a short token: connection scope, no detail', () => {
    const none = limited({});
    expect(none.rateLimitScope).toBe('connection');
    expect(none.detail).toBeUndefined();
    const odd = limited({ 'ratelimit-reason': 'jira-quota; Bearer abc.def' });
    expect(odd.rateLimitScope).toBe('connection');
    expect(odd.detail).toBeUndefined();
    expect(odd.message).not.toContain('Bearer');
  });

  it('keeps provider, status and the HTTP error as cause; no other header value in the message', () => {
    const e = limited({
      'retry-after': '5',
      'ratelimit-reason': 'jira-burst-based',
      'set-cookie': 'session=secret-cookie',
      'x-request-id': 'req-123456',
    });
    expect(e).toBeInstanceOf(ProviderError);
    expect(e.provider).toBe(JIRA_ID);
    expect(e.status).toBe(429);
    expect(e.cause).toBeInstanceOf(HttpStatusError);
    expect(e.operation).toBe('search.jql');
    expect(e.message).not.toContain('secret-cookie');
    expect(e.message).not.toContain('req-123456');
  });

  it('refines a 503 with Retry-After the client classified as RATE_LIMITED', () => {
    const e = mapJiraError(clientRateLimited({ 'retry-after': '20' }, 503), NOW, () => 0);
    expect(e.code).toBe('RATE_LIMITED');
    expect(e.status).toBe(503);
    expect(waitMs(e)).toBe(20_000);
  });

  it('maps a bare 429 HttpStatusError the same way', () => {
    const raw = httpError(429, BODIES.rateLimited, {
      'beta-retry-after': '60',
      'ratelimit-reason': 'jira-quota-tenant-based',
    });
    const e = mapJiraError(raw, NOW, () => 0);
    expect(e.code).toBe('RATE_LIMITED');
    expect(e.rateLimitScope).toBe('app');
    expect(waitMs(e)).toBe(60_000);
  });
});

describe('mapJiraError on HTTP errors', () => {
  it('401 scope does not match (a site of another product, or a missing scope): PERMISSION', () => {
    const e = mapJiraError(httpError(401, BODIES.scopeMismatch), NOW);
    expect(e.code).toBe('PERMISSION');
    expect(e.detail).toBe('scope_mismatch');
    expect(e.accessTokenRejected).toBe(false);
    expect(e.message).toContain('Unauthorized; scope does not match');
  });

  it.each([
    ['the gateway Unauthorized body', BODIES.unauthorized],
    ['an empty body', ''],
    ['a Jira body', { errorMessages: ['You are not authenticated.'], errors: {} }],
  ])('any other 401 (%s): TEMPORARY, the token is marked expired and refreshed', (_n, body) => {
    const e = mapJiraError(httpError(401, body), NOW);
    expect(e.code).toBe('TEMPORARY');
    expect(e.permanent).toBe(false);
    expect(e.detail).toBe('unauthorized');
    expect(e.accessTokenRejected).toBe(true);
  });

  it.each([
    [403, 'forbidden', 'PERMISSION', undefined],
    [404, 'issueNotFound', 'NOT_FOUND', undefined],
    [410, 'searchRemoved', 'PERMISSION', 'endpoint_removed'],
    [400, 'jqlUnknownField', 'UNKNOWN', 'bad_request'],
    [408, 'forbidden', 'TEMPORARY', undefined],
    [409, 'forbidden', 'UNKNOWN', undefined],
    [500, 'forbidden', 'TEMPORARY', undefined],
  ])('HTTP %i (%s) -> %s', (status, name, code, detail) => {
    const e = mapJiraError(httpError(status, BODIES[name]), NOW);
    expect(e).toBeInstanceOf(ProviderError);
    expect(e.code).toBe(code);
    expect(e.detail).toBe(detail);
    expect(e.status).toBe(status);
    expect(e.provider).toBe(JIRA_ID);
    expect(e.cause).toBeInstanceOf(HttpStatusError);
    expect(e.accessTokenRejected).toBe(false);
  });

  it('410: permanent, so the removed endpoint is not retried', () => {
    const e = mapJiraError(httpError(410, BODIES.searchRemoved), NOW);
    expect(e.permanent).toBe(true);
    expect(e.message).toContain('The requested API has been removed.');
  });

  it('400 invalid JQL: the message carries Jira first error message', () => {
    const e = mapJiraError(httpError(400, BODIES.jqlReservedCharacter), NOW);
    expect(e.code).toBe('UNKNOWN');
    expect(e.detail).toBe('bad_request');
    expect(e.message).toContain(`POST ${URL_}: HTTP 400: Error in the JQL Query:`);
    expect(e.message).toContain("The character '%' is a reserved JQL character.");
  });

  it('400 with field errors: their values are in the message', () => {
    const e = mapJiraError(httpError(400, BODIES.fieldErrors), NOW);
    expect(e.message).toMatch(/HTTP 400: The maxResults parameter must be a positive integer\.$/);
  });

  it('joins the first errorMessages entry and the errors values, on one line', () => {
    const body = {
      errorMessages: ['First\nproblem.', 'Second problem.'],
      errors: { jql: 'Field error.' },
    };
    const e = mapJiraError(httpError(400, body), NOW);
    expect(e.message).toMatch(/HTTP 400: First problem\.; Field error\.$/);
    expect(e.message).not.toContain('Second problem');
  });

  it('bounds Jira text in the message', () => {
    const long = `Error in the JQL Query: ${'x'.repeat(5_000)}`;
    const e = mapJiraError(httpError(400, { errorMessages: [long], errors: {} }), NOW);
    const jiraPart = e.message.slice(e.message.indexOf('HTTP 400: ') + 'HTTP 400: '.length);
    expect(jiraPart.length).toBe(MESSAGE_TEXT_LIMIT);
    expect(jiraPart.endsWith('…')).toBe(true);
    expect(jiraPart.startsWith('Error in the JQL Query: xxx')).toBe(true);
  });

  it('uses the gateway message when there are no errorMessages', () => {
    const e = mapJiraError(httpError(403, { code: 403, message: 'Forbidden by policy' }), NOW);
    expect(e.code).toBe('PERMISSION');
    expect(e.message).toMatch(/HTTP 403: Forbidden by policy$/);
  });

  it('keeps a non-JSON body (an HTML error page) out of the message', () => {
    const e = mapJiraError(httpError(404, '<html><body>Not here</body></html>'), NOW);
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toBe(`jira search.jql: POST ${URL_}: HTTP 404`);
  });

  it('never puts response header values in the message', () => {
    const e = mapJiraError(
      httpError(403, BODIES.forbidden, { 'www-authenticate': 'Bearer realm="secret-realm"' }),
      NOW,
    );
    expect(e.message).not.toContain('secret-realm');
  });
});

describe('mapJiraError on other failures', () => {
  it('passes ProviderErrors from the HTTP client through unchanged', () => {
    const temporary = new ProviderError('TEMPORARY', 'jira: HTTP 502', {
      status: 502,
      provider: JIRA_ID,
    });
    expect(mapJiraError(temporary, NOW)).toBe(temporary);
    // A RATE_LIMITED without the HTTP error behind it has no headers to refine from.
    const bare = new ProviderError('RATE_LIMITED', 'jira: HTTP 429', { retryAt: NOW });
    expect(mapJiraError(bare, NOW)).toBe(bare);
  });

  it('wraps anything else as UNKNOWN, keeping the cause', () => {
    const boom = new TypeError('boom');
    const e = mapJiraError(boom, NOW);
    expect(e.code).toBe('UNKNOWN');
    expect(e.message).toBe('jira: boom');
    expect(e.provider).toBe(JIRA_ID);
    expect(e.cause).toBe(boom);
    const odd = mapJiraError('a string', NOW);
    expect(odd.message).toBe('jira: unexpected failure');
    expect(odd.cause).toBe('a string');
  });
});
