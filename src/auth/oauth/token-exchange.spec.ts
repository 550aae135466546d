import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedAppConfig } from '../../core/config/app-config.js';
import { ProviderError } from '@pdeck/integration-sdk';
import { TOKEN_MAX_RESPONSE_BYTES } from '@pdeck/integration-sdk';
import { standaloneHttpClient } from '../../providers/testing.js';
import { parseTokenResponse, requestTokens, TokenExchangeError } from './token-exchange.js';

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

  it("reads Slack's user token from authed_user as a linked token, with its own expiry and scopes", () => {
    const body = {
      ok: true,
      access_token: 'xoxe.xoxb-1',
      refresh_token: 'xoxe-1-b',
      expires_in: 43200,
      scope: 'channels:history,channels:read',
      authed_user: {
        id: 'U1',
        access_token: 'xoxe.xoxp-1',
        refresh_token: 'xoxe-1-u',
        expires_in: 600,
        scope: 'im:history',
      },
    };
    const tokens = parseTokenResponse('slack', body, NOW, { user: 'authed_user' });
    expect(tokens).toEqual({
      accessToken: 'xoxe.xoxb-1',
      refreshToken: 'xoxe-1-b',
      expiresAt: '2030-01-01T12:00:00.000Z',
      scope: 'channels:history,channels:read',
      linked: {
        user: {
          accessToken: 'xoxe.xoxp-1',
          refreshToken: 'xoxe-1-u',
          expiresAt: '2030-01-01T00:10:00.000Z',
          scope: 'im:history',
        },
      },
    });
    // authed_user without a token (no user scope asked): nothing linked.
    const botOnly = { ...body, authed_user: { id: 'U1' } };
    expect(
      parseTokenResponse('slack', botOnly, NOW, { user: 'authed_user' }).linked,
    ).toBeUndefined();
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

describe('requestTokens over HTTP', () => {
  const TOKEN_ORIGIN = 'https://oauth.example.test';
  let server: Server;
  let origin: string;
  const paths: string[] = [];
  let answer: (path: string, res: import('node:http').ServerResponse) => void;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        paths.push(req.url!);
        answer(req.url!, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const exchange = () =>
    requestTokens(
      standaloneHttpClient({
        providerOrigins: { [TOKEN_ORIGIN]: origin },
      } as unknown as ResolvedAppConfig),
      {
        provider: 'p',
        descriptor: {
          tokenUrl: `${TOKEN_ORIGIN}/token`,
          tokenRequestEncoding: 'form',
          clientAuth: 'body',
        },
        credentials: { clientId: 'id', clientSecret: 'CLIENT-SECRET' },
        grant: { grant_type: 'refresh_token', refresh_token: 'REFRESH-SECRET' },
      },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );

  it('refuses a redirect of the token endpoint: the grant is never posted to the new location', async () => {
    paths.length = 0;
    answer = (path, res) => {
      if (path === '/elsewhere') return res.writeHead(200).end('{"access_token":"x"}');
      res.writeHead(307, { location: `${origin}/elsewhere` }).end();
    };
    const error = await exchange();
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ detail: 'redirect_refused', status: 307 });
    expect(paths).toEqual(['/token']);
  });

  it('fails a token answer larger than 64 KiB', async () => {
    answer = (_path, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: 'a'.repeat(TOKEN_MAX_RESPONSE_BYTES) }));
    const error = await exchange();
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ detail: 'response_too_large' });
  });
});
