import { Inject, Injectable } from '@nestjs/common';
import type { RedisClient } from '../core/redis/redis-client.js';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import { REDIS } from '../core/redis/redis.tokens.js';
import { newToken, SESSION_TOKEN_PATTERN, sha256 } from '../core/security/session-secrets.js';

/** How long a link from POST /v1/connect-sessions can be opened (once). */
export const LINK_TTL_SECONDS = 30 * 60;
/**
 * How long a spent or expired link is still recognised as one of ours, so its second use is
 * told "this link was used or has expired" (410) rather than "unknown link" (404).
 */
const LINK_MEMORY_SECONDS = 24 * 60 * 60;
/**
 * Lifetime of the browser session a link opens: fixed, counted from opening the link and never
 * extended. Two hours covers a consent round trip with room to spare; PDeck makes a new link
 * for anything later.
 */
export const SESSION_TTL_SECONDS = 2 * 60 * 60;

/** What PDeck asked for when it created the session; the same for the link and the session. */
export interface ConnectSessionGrant {
  userId: string;
  /** Only these integrations are offered; undefined = every enabled one. */
  providers?: string[];
  /** Where results are handed to (its origin is the postMessage target); undefined = manage only. */
  returnTo?: string;
}

export interface ConnectSession extends ConnectSessionGrant {
  /** Per-session CSRF token, sent back in every form. */
  csrf: string;
  expiresAt: string;
}

export type LinkRedemption =
  | { kind: 'opened'; cookie: string; session: ConnectSession }
  | { kind: 'spent' }
  | { kind: 'unknown' };

/**
 * One-time links and the browser sessions they open, in Redis under the app's key prefix. Only
 * SHA-256 digests of the link token and of the session cookie are keys; neither value is stored,
 * so a Redis dump cannot open a session. A link is redeemed with GETDEL: it works once even when
 * two tabs open it at the same moment.
 */
@Injectable()
export class ConnectSessionStore {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
  ) {}

  async createLink(grant: ConnectSessionGrant): Promise<{ token: string; expiresAt: Date }> {
    const token = newToken();
    const digest = sha256(token);
    const expiresAt = new Date(Date.now() + LINK_TTL_SECONDS * 1000);
    // One slot on a cluster: both keys carry the digest as hash tag (key()).
    await this.redis
      .multi()
      .set(this.key('link', digest), JSON.stringify(grant), 'EX', LINK_TTL_SECONDS)
      .set(this.key('link-issued', digest), '1', 'EX', LINK_MEMORY_SECONDS)
      .exec();
    return { token, expiresAt };
  }

  /** Spends the link and opens a session for its user; the cookie value is returned once. */
  async redeemLink(token: string): Promise<LinkRedemption> {
    if (!SESSION_TOKEN_PATTERN.test(token)) return { kind: 'unknown' };
    const digest = sha256(token);
    const raw = await this.redis.getdel(this.key('link', digest));
    if (!raw) {
      const issued = await this.redis.exists(this.key('link-issued', digest));
      return { kind: issued ? 'spent' : 'unknown' };
    }
    const grant = JSON.parse(raw) as ConnectSessionGrant;
    const cookie = newToken();
    const session: ConnectSession = {
      ...grant,
      csrf: newToken(),
      expiresAt: new Date(Date.now() + SESSION_TTL_SECONDS * 1000).toISOString(),
    };
    await this.redis.set(
      this.key('session', sha256(cookie)),
      JSON.stringify(session),
      'EX',
      SESSION_TTL_SECONDS,
    );
    return { kind: 'opened', cookie, session };
  }

  async session(cookie: string | undefined): Promise<ConnectSession | undefined> {
    if (!cookie || !SESSION_TOKEN_PATTERN.test(cookie)) return undefined;
    const raw = await this.redis.get(this.key('session', sha256(cookie)));
    return raw ? (JSON.parse(raw) as ConnectSession) : undefined;
  }

  /**
   * The digest is the key's hash tag: a link and its `link-issued` marker, written together in
   * one MULTI, share a Redis Cluster slot (different links spread over the cluster).
   */
  private key(kind: 'link' | 'link-issued' | 'session', digest: string): string {
    return `${this.config.redisKeyPrefix}:connect-ui:${kind}:{${digest}}`;
  }
}
