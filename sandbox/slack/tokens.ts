import { randomBytes, randomInt } from 'node:crypto';

export type Principal = 'bot' | 'user';

/**
 * One authorization: an app's bot user, or one user, in one workspace. Re-installing widens its
 * scopes (Slack scopes are additive: https://docs.slack.dev/authentication/installing-with-oauth),
 * so the scopes live here and every token of the grant reports the current set.
 */
export interface Grant {
  id: string;
  appId: string;
  teamId: string;
  kind: Principal;
  userId: string;
  scopes: string[];
  /** The app's token rotation setting when the grant was made (Slack: it can't be turned off). */
  rotation: boolean;
  revoked: boolean;
}

export interface AccessRec {
  token: string;
  grant: Grant;
  issuedAt: number;
  /** Epoch ms; null without rotation (such tokens never expire). */
  expiresAt: number | null;
  revoked: boolean;
}

/** What one issuance answers: with rotation, an expiring access token and a refresh token. */
export interface IssuedPair {
  accessToken: string;
  refreshToken?: string;
  expiresIn?: number;
}

export interface TokenInfo {
  kind: Principal;
  team: string;
  userId: string;
  scopes: string[];
  revoked: boolean;
  expiresAt: number | null;
}

export interface SlackTokensOptions {
  /** Lifetime of rotating access tokens (Slack: 43 200 s, 12 h). */
  accessTokenTtlSec: number;
  /** A used refresh token answers the same new pair again for this long. */
  refreshGraceSec: number;
}

export type RefreshOutcome =
  | { grant: Grant; pair: IssuedPair; reused: boolean }
  | { error: 'invalid_refresh_token' | 'token_revoked' };

interface RefreshRec {
  grant: Grant;
  usedAt?: number;
  /** The pair the first use answered, answered again within the grace period. */
  answer?: IssuedPair;
}

/** Live active tokens per grant with rotation (https://docs.slack.dev/authentication/using-token-rotation). */
const MAX_LIVE_ROTATING = 2;

/**
 * Grants, access and refresh tokens. Token rotation follows
 * https://docs.slack.dev/authentication/using-token-rotation: `xoxe.xoxb-`/`xoxe.xoxp-` access
 * tokens living 12 h, single-use `xoxe-1-` refresh tokens, at most two live access tokens per
 * grant (issuing a third revokes the oldest). Without rotation: `xoxb-`/`xoxp-`, no expiry.
 */
export class SlackTokens {
  private readonly grants: Grant[] = [];
  private readonly access = new Map<string, AccessRec>();
  private readonly refresh = new Map<string, RefreshRec>();
  private readonly issued: string[] = [];

  constructor(
    private readonly now: () => number,
    private readonly options: SlackTokensOptions,
  ) {}

  /** The principal's live grant, created or widened by `scopes`. */
  authorize(
    appId: string,
    teamId: string,
    kind: Principal,
    userId: string,
    scopes: string[],
    rotation: boolean,
  ): Grant {
    let grant = this.grants.find(
      (g) =>
        !g.revoked &&
        g.appId === appId &&
        g.teamId === teamId &&
        g.kind === kind &&
        g.userId === userId,
    );
    if (!grant) {
      grant = {
        id: randomBytes(6).toString('hex'),
        appId,
        teamId,
        kind,
        userId,
        scopes: [],
        rotation,
        revoked: false,
      };
      this.grants.push(grant);
    }
    for (const s of scopes) if (!grant.scopes.includes(s)) grant.scopes.push(s);
    return grant;
  }

  issue(grant: Grant): IssuedPair {
    const token = newAccessToken(grant);
    const now = this.now();
    const expiresAt = grant.rotation ? now + this.options.accessTokenTtlSec * 1000 : null;
    this.access.set(token, { token, grant, issuedAt: now, expiresAt, revoked: false });
    this.issued.push(token);
    if (!grant.rotation) return { accessToken: token };
    const live = [...this.access.values()].filter((r) => r.grant === grant && this.isLive(r));
    for (const old of live.slice(0, Math.max(0, live.length - MAX_LIVE_ROTATING)))
      old.revoked = true;
    const refreshToken = `xoxe-1-${randomBytes(48).toString('base64url')}`;
    this.refresh.set(refreshToken, { grant });
    this.issued.push(refreshToken);
    return { accessToken: token, refreshToken, expiresIn: this.options.accessTokenTtlSec };
  }

  /**
   * Single use: the first use answers a new pair; within the grace period a second use answers
   * that same pair (`reused`), later ones `invalid_refresh_token`. A refresh token of a revoked
   * grant answers `token_revoked` (UNCONFIRMED: Slack lists the error for oauth.v2.access without
   * saying when; the safe reading is that an uninstalled app can't refresh).
   */
  refreshWith(token: string, appId: string): RefreshOutcome {
    const rec = this.refresh.get(token);
    if (!rec || rec.grant.appId !== appId) return { error: 'invalid_refresh_token' };
    if (rec.grant.revoked) return { error: 'token_revoked' };
    if (rec.usedAt !== undefined) {
      if (this.now() - rec.usedAt <= this.options.refreshGraceSec * 1000 && rec.answer)
        return { grant: rec.grant, pair: rec.answer, reused: true };
      return { error: 'invalid_refresh_token' };
    }
    rec.usedAt = this.now();
    rec.answer = this.issue(rec.grant);
    return { grant: rec.grant, pair: rec.answer, reused: false };
  }

  lookup(token: string): AccessRec | undefined {
    return this.access.get(token);
  }

  /** Revokes one access token; answers the tokens revoked. */
  revokeAccess(token: string): string[] {
    const rec = this.access.get(token);
    if (!rec || rec.revoked) return [];
    rec.revoked = true;
    return [token];
  }

  /** Revokes a grant: its access tokens (answered) and refresh tokens stop working. */
  revokeGrant(grant: Grant): string[] {
    grant.revoked = true;
    const revoked: string[] = [];
    for (const rec of this.access.values())
      if (rec.grant === grant && !rec.revoked) {
        rec.revoked = true;
        revoked.push(rec.token);
      }
    return revoked;
  }

  /** The app's live grants in a workspace: its installation there, if any. */
  liveGrants(appId: string, teamId: string): Grant[] {
    return this.grants.filter((g) => !g.revoked && g.appId === appId && g.teamId === teamId);
  }

  allGrants(): readonly Grant[] {
    return this.grants;
  }

  /** Live (not revoked, not expired) access tokens of a grant. */
  liveTokens(grant: Grant): AccessRec[] {
    return [...this.access.values()].filter((r) => r.grant === grant && this.isLive(r));
  }

  /** Moves every expiry to now: rotating access tokens answer `token_expired`. */
  expireAccessTokens(): number {
    let n = 0;
    for (const rec of this.access.values())
      if (rec.expiresAt !== null) {
        rec.expiresAt = Math.min(rec.expiresAt, this.now());
        n++;
      }
    return n;
  }

  info(token: string): TokenInfo | undefined {
    const rec = this.access.get(token);
    if (!rec) return undefined;
    return {
      kind: rec.grant.kind,
      team: rec.grant.teamId,
      userId: rec.grant.userId,
      scopes: [...rec.grant.scopes],
      revoked: rec.revoked || rec.grant.revoked,
      expiresAt: rec.expiresAt,
    };
  }

  /** Every access and refresh token ever issued. */
  issuedTokens(): string[] {
    return [...this.issued];
  }

  private isLive(rec: AccessRec): boolean {
    return (
      !rec.revoked && !rec.grant.revoked && (rec.expiresAt === null || rec.expiresAt > this.now())
    );
  }
}

/** `xoxb-<team>-<bot>-<24>` / `xoxp-...` without rotation; `xoxe.xoxb-1-...` with it. */
function newAccessToken(grant: Grant): string {
  const kind = grant.kind === 'bot' ? 'xoxb' : 'xoxp';
  if (grant.rotation) return `xoxe.${kind}-1-${randomBytes(60).toString('base64url')}`;
  const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join('');
  return `${kind}-${digits(11)}-${digits(13)}-${randomBytes(12).toString('hex')}`;
}
