import { describe, expect, it } from 'vitest';
import { parseTokenResponse, TokenExchangeError } from './token-exchange.js';

const NOW = Date.parse('2030-01-01T00:00:00.000Z');

describe('parseTokenResponse', () => {
  it('reads an RFC 6749 answer, expiry measured from our receive time', () => {
    const tokens = parseTokenResponse(
      'google-calendar',
      { access_token: 'at-1', refresh_token: 'rt-1', expires_in: 3599, scope: 'a b' },
      NOW,
    );
    expect(tokens).toEqual({
      accessToken: 'at-1',
      refreshToken: 'rt-1',
      expiresAt: '2030-01-01T00:59:59.000Z',
      scope: 'a b',
    });
  });

  it('accepts expires_in as a string and leaves expiry out when there is none', () => {
    expect(parseTokenResponse('jira', { access_token: 'a', expires_in: '60' }, NOW).expiresAt).toBe(
      '2030-01-01T00:01:00.000Z',
    );
    expect(
      parseTokenResponse('slack', { ok: true, access_token: 'a' }, NOW).expiresAt,
    ).toBeUndefined();
  });

  it("treats Slack's HTTP 200 `ok: false` as a refused exchange", () => {
    const call = () => parseTokenResponse('slack', { ok: false, error: 'invalid_code' }, NOW);
    expect(call).toThrow(TokenExchangeError);
    expect(call).toThrow(/invalid_code/);
  });

  it('refuses an answer without an access token', () => {
    expect(() => parseTokenResponse('x', { token_type: 'bearer' }, NOW)).toThrow(
      expect.objectContaining({ oauthError: 'invalid_token_response' }),
    );
  });

  it('keeps a readable error_description but drops one that could echo a secret', () => {
    const plain = () =>
      parseTokenResponse('x', { error: 'invalid_grant', error_description: 'code expired' }, NOW);
    expect(plain).toThrow('x token endpoint refused the request (invalid_grant): code expired');
    const echo = () =>
      parseTokenResponse(
        'x',
        { error: 'invalid_grant', error_description: 'bad code 4/0AbCdEfGhIjKlMnOpQrStUvWxYz' },
        NOW,
      );
    expect(echo).toThrow('x token endpoint refused the request (invalid_grant)');
    expect(echo).not.toThrow(/4\/0Ab/);
  });
});
