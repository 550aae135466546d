import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  OAuth1FlowService,
  OAuthStateError,
  type OAuthStateErrorReason,
} from '../../src/auth/oauth1/oauth1-flow.service.js';
import type { ResolvedAppConfig } from '../../src/core/config/app-config.js';
import { parseConfig } from '../../src/core/config/load-config.js';
import { credentialsEnvOf } from '../../src/providers/integrations.js';
import { standaloneHttpClient } from '../../src/providers/testing.js';
import { ProviderError, type OAuth1AuthDescriptor } from '@pdeck/integration-sdk';
import { startFakeOAuth1Server, type FakeOAuth1Server } from '../support/fake-oauth1-server.js';
import { flushPrefix } from '../support/test-services.js';

const CONSUMER = { consumerKey: 'trello-key-123', consumerSecret: 'trello-secret-456' };
const CALLBACK = 'http://localhost:3000/v1/oauth/trello/callback';

const descriptor: OAuth1AuthDescriptor = {
  scheme: 'oauth1',
  requestTokenUrl: 'https://trello.com/1/OAuthGetRequestToken',
  authorizeUrl: 'https://trello.com/1/OAuthAuthorizeToken',
  accessTokenUrl: 'https://trello.com/1/OAuthGetAccessToken',
  authorizeParams: { name: 'PDeck', scope: 'read', expiration: 'never' },
};

describe('OAuth1FlowService against a signature-checking fake Trello', () => {
  const redisUrl = inject('redisUrl');
  const prefix = `t-oauth1-${randomBytes(6).toString('hex')}`;
  let fake: FakeOAuth1Server;
  let redis: Redis;
  let service: OAuth1FlowService;

  const makeConfig = (secret = CONSUMER.consumerSecret): ResolvedAppConfig => {
    const config = parseConfig(
      {
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: prefix,
        PUBLIC_URL: 'http://localhost:3000',
        TRELLO_API_KEY: CONSUMER.consumerKey,
        TRELLO_API_SECRET: secret,
        PROVIDER_ORIGINS: JSON.stringify({ 'https://trello.com': fake.origin }),
      },
      credentialsEnvOf(),
    );
    // A second provider id with the same app, to produce states bound to another provider.
    config.providerCredentials['trello-other'] = config.providerCredentials.trello;
    return { ...config, databaseUrl: 'postgres://unused@127.0.0.1/unused' };
  };
  const makeService = (config: ResolvedAppConfig) =>
    new OAuth1FlowService(standaloneHttpClient(config), config, redis);

  /** start + the browser leg: returns the query our callback would receive. */
  const startAndAuthorize = async (provider = 'trello', returnTo?: string) => {
    const { authorizeUrl } = await service.start({
      provider,
      descriptor,
      userId: 'user-1',
      returnTo,
      callbackUrl: CALLBACK,
    });
    const res = await fetch(authorizeUrl, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(CALLBACK);
    return { authorizeUrl, query: Object.fromEntries(location.searchParams) };
  };

  const expectStateError = async (p: Promise<unknown>, reason: OAuthStateErrorReason) => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OAuthStateError);
    expect((err as OAuthStateError).reason).toBe(reason);
  };

  const prefixValues = async (): Promise<string[]> => {
    const keys = await redis.keys(`${prefix}:*`);
    return keys.length ? ((await redis.mget(...keys)).filter(Boolean) as string[]) : [];
  };

  beforeAll(async () => {
    fake = await startFakeOAuth1Server(CONSUMER);
    redis = new Redis(redisUrl);
    service = makeService(makeConfig());
  });
  afterAll(async () => {
    await flushPrefix(redisUrl, prefix);
    redis.disconnect();
    await fake.close();
  });

  it('runs the three legs, keeps secrets server-side and redeems a callback only once', async () => {
    const { authorizeUrl, query } = await startAndAuthorize('trello', 'https://app.pdeck.io/x');
    const requestToken = fake.issued.requestTokens.at(-1)!;

    // The browser is sent to the sandbox, with Trello's authorize parameters.
    expect(authorizeUrl.startsWith(`${fake.origin}/1/OAuthAuthorizeToken?`)).toBe(true);
    expect(fake.stats.lastAuthorizeQuery).toEqual({
      oauth_token: requestToken.token,
      name: 'PDeck',
      scope: 'read',
      expiration: 'never',
    });
    expect(authorizeUrl).not.toContain(requestToken.secret);
    expect(query.oauth_token).toBe(requestToken.token);
    expect(query.oauth_verifier).toBeTruthy();
    expect(query.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await redis.ttl(`${prefix}:oauth1:${query.state}`)).toBeGreaterThan(590);

    const result = await service.complete({ provider: 'trello', descriptor, query });
    const access = fake.issued.accessTokens.at(-1)!;
    expect(result).toEqual({
      userId: 'user-1',
      returnTo: 'https://app.pdeck.io/x',
      accessToken: access.token,
      tokenSecret: access.secret,
    });
    expect(fake.stats.badSignatures).toBe(0);

    for (const value of await prefixValues()) {
      for (const secret of [requestToken.secret, access.token, access.secret]) {
        expect(value).not.toContain(secret);
      }
    }

    // Replaying the same callback finds nothing: the state was consumed.
    await expectStateError(
      service.complete({ provider: 'trello', descriptor, query }),
      'unknown_or_expired',
    );
    expect(fake.stats.accessTokens).toBe(1);
  });

  it('rejects a state that was started for another provider, and burns it', async () => {
    const { query } = await startAndAuthorize('trello-other');
    await expectStateError(
      service.complete({ provider: 'trello', descriptor, query }),
      'provider_mismatch',
    );
    await expectStateError(
      service.complete({ provider: 'trello-other', descriptor, query }),
      'unknown_or_expired',
    );
  });

  it('rejects an oauth_token that is not the one bound to the state', async () => {
    const a = await startAndAuthorize();
    const b = await startAndAuthorize();
    const before = fake.stats.accessTokens;
    await expectStateError(
      service.complete({
        provider: 'trello',
        descriptor,
        query: { ...a.query, oauth_token: b.query.oauth_token },
      }),
      'token_mismatch',
    );
    expect(fake.stats.accessTokens).toBe(before);
    await flushPrefix(redisUrl, prefix);
  });

  it('requires state, oauth_token and oauth_verifier', async () => {
    const { query } = await startAndAuthorize();
    for (const name of ['state', 'oauth_token', 'oauth_verifier']) {
      const partial: Record<string, unknown> = { ...query, [name]: undefined };
      await expectStateError(
        service.complete({ provider: 'trello', descriptor, query: partial }),
        'missing',
      );
    }
    await expectStateError(
      service.complete({ provider: 'trello', descriptor, query: { ...query, state: ['a', 'b'] } }),
      'missing',
    );
    await expectStateError(
      service.complete({ provider: 'trello', descriptor, query: { ...query, state: 'forged' } }),
      'unknown_or_expired',
    );
    // The genuine callback still works: rejected attempts did not touch its state.
    await expect(
      service.complete({ provider: 'trello', descriptor, query }),
    ).resolves.toMatchObject({
      userId: 'user-1',
    });
  });

  it('lets a denied authorization be consumed without an exchange', async () => {
    fake.deny = true;
    try {
      const { query } = await startAndAuthorize('trello', 'https://app.pdeck.io/back');
      expect(query.oauth_verifier).toBeUndefined();
      await expectStateError(
        service.complete({ provider: 'trello', descriptor, query }),
        'missing',
      );
      expect(await service.consumeForError(query.state)).toEqual({
        provider: 'trello',
        userId: 'user-1',
        returnTo: 'https://app.pdeck.io/back',
      });
      expect(await service.consumeForError(query.state)).toBeUndefined();
    } finally {
      fake.deny = false;
    }
  });

  it('fails start() when our consumer secret is wrong, and stores nothing', async () => {
    const wrong = makeService(makeConfig('not-the-secret'));
    const before = fake.stats.badSignatures;
    const keysBefore = (await redis.keys(`${prefix}:*`)).length;
    const err = await wrong
      .start({ provider: 'trello', descriptor, userId: 'user-1', callbackUrl: CALLBACK })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ code: 'AUTH_REVOKED', status: 401, detail: 'invalid signature' });
    expect((err as Error).message).not.toContain('not-the-secret');
    expect(fake.stats.badSignatures).toBe(before + 1);
    expect((await redis.keys(`${prefix}:*`)).length).toBe(keysBefore);
  });

  it('refuses a redirect of the request-token endpoint instead of re-posting the signed request', async () => {
    const seen: string[] = [];
    const mover = createServer((req, res) => {
      seen.push(req.url!);
      if (req.url!.startsWith('/moved')) return res.writeHead(200).end('oauth_token=x');
      res.writeHead(302, { location: `http://127.0.0.1:${port()}/moved` }).end();
    });
    await new Promise<void>((resolve) => mover.listen(0, '127.0.0.1', resolve));
    const port = () => (mover.address() as AddressInfo).port;
    try {
      const config = {
        ...makeConfig(),
        providerOrigins: { 'https://trello.com': `http://127.0.0.1:${port()}` },
      };
      const err = await makeService(config)
        .start({ provider: 'trello', descriptor, userId: 'user-1', callbackUrl: CALLBACK })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(ProviderError);
      expect(err).toMatchObject({ detail: 'redirect_refused', status: 302 });
      expect(seen).toEqual(['/1/OAuthGetRequestToken']);
    } finally {
      mover.closeAllConnections();
      await new Promise((resolve) => mover.close(resolve));
    }
  });
});
