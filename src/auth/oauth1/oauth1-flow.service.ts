import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { RedisClient } from '../../core/redis/redis-client.js';
import { APP_CONFIG, type ResolvedAppConfig } from '../../core/config/app-config.js';
import { OriginMap } from '../../providers/http/origin-map.js';
import { ProviderHttpClient } from '../../providers/http/provider-http-client.js';
import { isHttpStatusError, TOKEN_MAX_RESPONSE_BYTES } from '@pdeck/integration-sdk';
import { REDIS } from '../../core/redis/redis.tokens.js';
import {
  ProviderError,
  type ProviderErrorCode,
  type OAuth1AuthDescriptor,
} from '@pdeck/integration-sdk';
import { signRequest } from './oauth1-signer.js';
import { type ConsumedStateSink, recordConsumed } from '../oauth/consumed-state.js';

/** How long a user has between starting the flow and coming back from the provider. */
export const OAUTH1_STATE_TTL_SECONDS = 600;

export type OAuthStateErrorReason =
  'missing' | 'unknown_or_expired' | 'provider_mismatch' | 'token_mismatch';

/** A callback that does not belong to a flow we started; the message never carries its values. */
export class OAuthStateError extends Error {
  override readonly name = 'OAuthStateError';
  constructor(readonly reason: OAuthStateErrorReason) {
    super(`OAuth 1.0a callback rejected: ${reason}`);
  }
}

interface StoredState {
  provider: string;
  userId: string;
  returnTo?: string;
  requestToken: string;
  requestTokenSecret: string;
  createdAt: string;
}

export interface OAuth1StartInput {
  provider: string;
  descriptor: OAuth1AuthDescriptor;
  userId: string;
  returnTo?: string;
  callbackUrl: string;
  /** More parameters for our callback URL, given the flow's state (e.g. a sealed returnTo). */
  callbackParams?: (state: string) => Record<string, string>;
}

export interface OAuth1CompleteInput {
  provider: string;
  descriptor: OAuth1AuthDescriptor;
  query: Record<string, unknown>;
  /** Told when the state is redeemed, so later failures can send the user back. */
  sink?: ConsumedStateSink;
}

export interface OAuth1CompleteResult {
  userId: string;
  returnTo?: string;
  accessToken: string;
  tokenSecret: string;
}

/**
 * The three-legged OAuth 1.0a dance (RFC 5849 section 2) for Trello. The request token secret
 * lives only in Redis, keyed by an unguessable `state` that rides on the callback URL, so the
 * browser never sees it and a callback can be redeemed once.
 */
@Injectable()
export class OAuth1FlowService {
  private readonly origins: OriginMap;

  constructor(
    private readonly http: ProviderHttpClient,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
    @Inject(REDIS) private readonly redis: RedisClient,
  ) {
    this.origins = new OriginMap(config.providerOrigins ?? {});
  }

  async start(input: OAuth1StartInput): Promise<{ authorizeUrl: string }> {
    const state = randomBytes(32).toString('base64url');
    const callback = new URL(input.callbackUrl);
    callback.searchParams.set('state', state);
    for (const [k, v] of Object.entries(input.callbackParams?.(state) ?? {})) {
      callback.searchParams.set(k, v);
    }
    const answer = await this.post(
      input.provider,
      input.descriptor.requestTokenUrl,
      'request_token',
      {
        extraOAuthParams: { oauth_callback: callback.toString() },
      },
    );
    const requestToken = answer.get('oauth_token');
    const requestTokenSecret = answer.get('oauth_token_secret');
    if (!requestToken || !requestTokenSecret) {
      throw malformed(input.provider, 'request_token', 'missing_token');
    }
    // RFC 5849 2.1: without the confirmation the server ignored our callback (OAuth 1.0 "classic").
    if (answer.get('oauth_callback_confirmed') !== 'true') {
      throw malformed(input.provider, 'request_token', 'callback_not_confirmed');
    }
    const stored: StoredState = {
      provider: input.provider,
      userId: input.userId,
      returnTo: input.returnTo,
      requestToken,
      requestTokenSecret,
      createdAt: new Date().toISOString(),
    };
    await this.redis.set(this.key(state), JSON.stringify(stored), 'EX', OAUTH1_STATE_TTL_SECONDS);

    const authorize = new URL(input.descriptor.authorizeUrl);
    authorize.searchParams.set('oauth_token', requestToken);
    for (const [k, v] of Object.entries(input.descriptor.authorizeParams ?? {})) {
      authorize.searchParams.set(k, v);
    }
    // The browser goes there directly, so it needs the same sandbox redirection as our own calls.
    return { authorizeUrl: this.origins.rewrite(authorize).toString() };
  }

  async complete(input: OAuth1CompleteInput): Promise<OAuth1CompleteResult> {
    const { state, oauth_token: token, oauth_verifier: verifier } = input.query;
    if (!isFilled(state) || !isFilled(token) || !isFilled(verifier)) {
      throw new OAuthStateError('missing');
    }
    const stored = await this.consume(state);
    if (!stored) throw new OAuthStateError('unknown_or_expired');
    // The state is burnt by now either way: a mismatched callback cannot be retried with it.
    if (stored.provider !== input.provider) throw new OAuthStateError('provider_mismatch');
    if (!sameSecret(stored.requestToken, token)) throw new OAuthStateError('token_mismatch');
    recordConsumed(input.sink, stored);

    const answer = await this.post(
      input.provider,
      input.descriptor.accessTokenUrl,
      'access_token',
      {
        token: stored.requestToken,
        tokenSecret: stored.requestTokenSecret,
        extraOAuthParams: { oauth_verifier: verifier },
      },
    );
    const accessToken = answer.get('oauth_token');
    const tokenSecret = answer.get('oauth_token_secret');
    if (!accessToken || !tokenSecret)
      throw malformed(input.provider, 'access_token', 'missing_token');
    return { userId: stored.userId, returnTo: stored.returnTo, accessToken, tokenSecret };
  }

  /**
   * For a callback without a verifier (the user denied): burns the state without an exchange so
   * the controller can send the user back to returnTo with an error.
   */
  async consumeForError(
    state: string,
  ): Promise<{ provider: string; userId: string; returnTo?: string } | undefined> {
    const stored = await this.consume(state);
    return (
      stored && { provider: stored.provider, userId: stored.userId, returnTo: stored.returnTo }
    );
  }

  /** GETDEL makes redemption atomic: two racing callbacks cannot both get the secret. */
  private async consume(state: string): Promise<StoredState | undefined> {
    // Our states are 43 base64url characters; anything else cannot be one, so skip Redis.
    if (!/^[A-Za-z0-9_-]{43}$/.test(state)) return undefined;
    const raw = await this.redis.getdel(this.key(state));
    return raw ? (JSON.parse(raw) as StoredState) : undefined;
  }

  private key(state: string): string {
    return `${this.config.redisKeyPrefix}:oauth1:${state}`;
  }

  private async post(
    provider: string,
    url: string,
    step: string,
    auth: Pick<Parameters<typeof signRequest>[0], 'token' | 'tokenSecret' | 'extraOAuthParams'>,
  ): Promise<URLSearchParams> {
    const creds = this.config.providerCredentials[provider];
    if (!creds) throw new Error(`OAuth 1.0a: provider ${provider} has no credentials configured`);
    // The signature covers the URL the server sees, which is the overridden one in sandboxes.
    const { authorization } = signRequest({
      method: 'POST',
      url: this.origins.rewrite(url),
      consumerKey: creds.clientId,
      consumerSecret: creds.clientSecret,
      ...auth,
    });
    try {
      const res = await this.http.request<string>({
        provider,
        method: 'POST',
        url,
        headers: { authorization },
        expect: 'text',
        operation: `oauth1.${step}`,
        // Signed for this URL, answered with token secrets: never followed elsewhere.
        redirect: 'error',
        maxResponseBytes: TOKEN_MAX_RESPONSE_BYTES,
      });
      return new URLSearchParams(res.data ?? '');
    } catch (err) {
      if (!isHttpStatusError(err)) throw err;
      const code: ProviderErrorCode =
        err.status === 401 ? 'AUTH_REVOKED' : err.status === 403 ? 'PERMISSION' : 'UNKNOWN';
      // Only a short plain phrase (e.g. "invalid signature") is kept: bodies may echo tokens.
      const body = err.bodyText.trim();
      const detail = /^[a-z][a-z _-]{0,59}$/i.test(body) ? body : undefined;
      throw new ProviderError(code, `${provider} oauth1 ${step}: HTTP ${err.status}`, {
        cause: err,
        provider,
        status: err.status,
        detail,
      });
    }
  }
}

function isFilled(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** Constant-time comparison; hashing first gives equal lengths without leaking the length. */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

function malformed(provider: string, step: string, detail: string): ProviderError {
  return new ProviderError('UNKNOWN', `${provider} oauth1 ${step}: unexpected answer`, {
    provider,
    detail,
  });
}
