import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { RedisClient } from '../core/redis/redis-client.js';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import { TokenSet } from '../core/security/internal-api.guard.js';
import { newToken, SESSION_TOKEN_PATTERN, sha256 } from '../core/security/session-secrets.js';
import { REDIS } from '../core/redis/redis.tokens.js';

/**
 * Lifetime of an operator session: fixed, counted from sign-in and never extended, so a
 * forgotten browser tab does not keep the console open for longer than a working day.
 */
export const ADMIN_SESSION_TTL_SECONDS = 8 * 60 * 60;
/** Failed sign-ins per client address before further attempts are refused (429). */
export const SIGN_IN_FAILURE_LIMIT = 5;
/** The window those failures are counted in, and how long the refusal lasts after the last one. */
export const SIGN_IN_FAILURE_WINDOW_SECONDS = 15 * 60;

export interface AdminSession {
  /** Which internal API token opened the session (tokenIdOf), never the token itself. */
  tokenId: string;
  /** Per-session CSRF token, sent back in every form. */
  csrf: string;
  expiresAt: string;
}

export type SignInResult =
  | { kind: 'signed-in'; cookie: string; session: AdminSession }
  | { kind: 'refused' }
  | { kind: 'throttled'; retryAfterSeconds: number };

/**
 * Operator sessions of the console, in Redis under the app's key prefix, keyed by a SHA-256
 * digest of the cookie (the cookie value is stored nowhere). The token is checked like the
 * internal API guard does it (SHA-256 digests compared in constant time).
 */
@Injectable()
export class AdminSessionStore {
  private readonly tokens: TokenSet;
  private readonly tokenIds: Set<string>;

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
  ) {
    this.tokens = new TokenSet(config.internalApiTokens);
    this.tokenIds = new Set(config.internalApiTokens.map(tokenIdOf));
  }

  async signIn(token: string | undefined, clientAddress: string): Promise<SignInResult> {
    const failuresKey = this.key('sign-in-failures', sha256(clientAddress));
    // Refused before the token is even compared: guessing stops being useful at the limit.
    const failures = Number((await this.redis.get(failuresKey)) ?? 0);
    if (failures >= SIGN_IN_FAILURE_LIMIT) {
      const ttl = await this.redis.ttl(failuresKey);
      return {
        kind: 'throttled',
        retryAfterSeconds: ttl > 0 ? ttl : SIGN_IN_FAILURE_WINDOW_SECONDS,
      };
    }
    if (!token || token.length > 1024 || !this.tokens.matches(token)) {
      // One key in this MULTI, so one Redis Cluster slot.
      await this.redis
        .multi()
        .incr(failuresKey)
        .expire(failuresKey, SIGN_IN_FAILURE_WINDOW_SECONDS)
        .exec();
      return { kind: 'refused' };
    }
    const cookie = newToken();
    const session: AdminSession = {
      tokenId: tokenIdOf(token),
      csrf: newToken(),
      expiresAt: new Date(Date.now() + ADMIN_SESSION_TTL_SECONDS * 1000).toISOString(),
    };
    await this.redis.set(
      this.key('session', sha256(cookie)),
      JSON.stringify(session),
      'EX',
      ADMIN_SESSION_TTL_SECONDS,
    );
    return { kind: 'signed-in', cookie, session };
  }

  /** The session of a cookie; none once its token is no longer in INTERNAL_API_TOKENS. */
  async session(cookie: string | undefined): Promise<AdminSession | undefined> {
    if (!cookie || !SESSION_TOKEN_PATTERN.test(cookie)) return undefined;
    const raw = await this.redis.get(this.key('session', sha256(cookie)));
    if (!raw) return undefined;
    const session = JSON.parse(raw) as AdminSession;
    return this.tokenIds.has(session.tokenId) ? session : undefined;
  }

  async signOut(cookie: string | undefined): Promise<void> {
    if (!cookie || !SESSION_TOKEN_PATTERN.test(cookie)) return;
    await this.redis.del(this.key('session', sha256(cookie)));
  }

  private key(kind: 'session' | 'sign-in-failures', digest: string): string {
    return `${this.config.redisKeyPrefix}:admin:${kind}:${digest}`;
  }
}

/**
 * A stable, non-secret name for one of INTERNAL_API_TOKENS: the first 12 hex digits of its
 * SHA-256 digest. It survives reordering the list and says nothing usable about the token.
 */
export function tokenIdOf(token: string): string {
  return `tok_${createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 12)}`;
}
