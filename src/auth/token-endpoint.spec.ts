import { describe, expect, it } from 'vitest';
import { ProviderError, type OAuth2AuthDescriptor } from '@pdeck/integration-sdk';
import { TokenExchangeError } from './oauth/token-exchange.js';
import { classifyRefreshError, revocationRequest } from './token-endpoint.js';
import { needsRefresh, REFRESH_MARGIN_MS } from './token.service.js';

const descriptor: OAuth2AuthDescriptor & { revokeUrl: string } = {
  scheme: 'oauth2',
  authorizeUrl: 'https://auth.example/authorize',
  tokenUrl: 'https://auth.example/token',
  revokeUrl: 'https://auth.example/revoke',
  scopes: [],
  scopeSeparator: ' ',
  pkce: true,
  tokenRequestEncoding: 'json',
  clientAuth: 'body',
  rotatesRefreshTokens: true,
};
const client = { clientId: 'id 1', clientSecret: 's:ecret' };

describe('needsRefresh', () => {
  const now = Date.parse('2026-11-28T12:00:00Z');
  const at = (ms: number) => new Date(now + ms).toISOString();

  it('refreshes inside the margin when a refresh token exists', () => {
    expect(
      needsRefresh(
        { accessToken: 'a', refreshToken: 'r', expiresAt: at(REFRESH_MARGIN_MS - 1) },
        now,
      ),
    ).toBe(true);
    expect(
      needsRefresh({ accessToken: 'a', refreshToken: 'r', expiresAt: at(REFRESH_MARGIN_MS) }, now),
    ).toBe(false);
  });

  it('never refreshes tokens without expiry (Trello, Slack without rotation)', () => {
    expect(needsRefresh({ accessToken: 'a', refreshToken: 'r' }, now)).toBe(false);
  });

  it('without a refresh token, uses the token until it has actually expired', () => {
    expect(needsRefresh({ accessToken: 'a', expiresAt: at(60_000) }, now)).toBe(false);
    expect(needsRefresh({ accessToken: 'a', expiresAt: at(-1) }, now)).toBe(true);
  });
});

describe('classifyRefreshError', () => {
  it("treats a dead grant (RFC invalid_grant, a provider's own codes) as AUTH_REVOKED", () => {
    for (const code of ['invalid_grant', 'invalid_refresh_token', 'token_revoked']) {
      const error = classifyRefreshError(
        'p',
        new TokenExchangeError(code, 'refused', { httpStatus: 400 }),
        ['invalid_refresh_token', 'token_revoked'],
      );
      expect(error).toMatchObject({ code: 'AUTH_REVOKED', detail: code, status: 400 });
    }
  });

  it('does not send users to reconnect for our own client misconfiguration', () => {
    const error = classifyRefreshError('p', new TokenExchangeError('invalid_client', 'refused'));
    expect(error).toMatchObject({ code: 'UNKNOWN', detail: 'invalid_client' });
  });

  it('passes outages and rate limits through unchanged', () => {
    const temporary = new ProviderError('TEMPORARY', 'down');
    expect(classifyRefreshError('p', temporary)).toBe(temporary);
  });
});

describe('revocationRequest', () => {
  const token = { value: 'the-refresh-token', hint: 'refresh_token' as const };

  it('posts an RFC 7009 form even when the token endpoint takes JSON', () => {
    const req = revocationRequest('p', descriptor, client, token);
    expect(req).toMatchObject({ method: 'POST', url: descriptor.revokeUrl });
    expect(req.json).toBeUndefined();
    expect(req.form).toEqual({
      token: 'the-refresh-token',
      token_type_hint: 'refresh_token',
      client_id: 'id 1',
      client_secret: 's:ecret',
    });
  });

  it('refuses redirects and caps the answer: the body carries the token and client secret', () => {
    const req = revocationRequest('p', descriptor, client, token);
    expect(req).toMatchObject({ redirect: 'error', maxResponseBytes: 64 * 1024 });
  });

  it('authenticates with form-encoded HTTP Basic when the descriptor says so', () => {
    const req = revocationRequest('p', { ...descriptor, clientAuth: 'basic' }, client, token);
    expect(req.form).toEqual({ token: 'the-refresh-token', token_type_hint: 'refresh_token' });
    const basic = Buffer.from('id+1:s%3Aecret').toString('base64');
    expect(req.headers).toEqual({ authorization: `Basic ${basic}` });
  });
});
