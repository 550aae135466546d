import { createHash, randomBytes } from 'node:crypto';

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  /** Shown on the consent page. */
  name: string;
  /** When set, authorize only accepts these (exact match, as Google does). Otherwise any URI. */
  redirectUris?: string[];
}

export interface OAuthAccount {
  email: string;
  name: string;
}

export interface TokenResponse {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
  scope: string;
  token_type: 'Bearer';
}

export interface AccessTokenInfo {
  account: string;
  clientId: string;
  scopes: string[];
  expiresAt: number;
}

export interface CodeRequest {
  clientId: string;
  redirectUri: string;
  account: string;
  scopes: string[];
  challenge?: string;
  challengeMethod?: 'plain' | 'S256';
  issueRefresh: boolean;
}

export interface TokenStoreOptions {
  accessTokenTtlSec: number;
  codeTtlSec: number;
  /** Google keeps the refresh token on refresh; providers that rotate set this. */
  rotateRefreshTokens: boolean;
  /** Google: 100 per account per client; the 101st silently invalidates the oldest. */
  maxRefreshTokensPerGrant: number;
  now: () => number;
}

/** An OAuth error with the RFC 6749 body Google also uses: `{error, error_description}`. */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(`${error}: ${description}`);
  }
}

interface Grant {
  account: string;
  clientId: string;
  scopes: Set<string>;
  refreshTokens: string[];
}

const DEAD_REFRESH = 'Token has been expired or revoked.';

/**
 * Codes, grants and tokens. A grant is one account's consent to one client: revoking any of
 * its tokens revokes the grant (Google removes every scope the user gave the project).
 */
export class TokenStore {
  private readonly codes = new Map<string, CodeRequest & { expiresAt: number }>();
  private readonly grants = new Map<string, Grant>();
  private readonly accessTokens = new Map<string, AccessTokenInfo & { grant: string }>();
  private readonly refreshTokens = new Map<string, string>();
  /** Every code, access token and refresh token ever handed out, revoked and spent ones included. */
  private readonly secretLog: string[] = [];
  readonly issued = { access: 0, refresh: 0 };
  revocations = 0;

  constructor(private readonly options: TokenStoreOptions) {}

  /** Every credential this store issued (codes, access and refresh tokens), for leak checks. */
  issuedSecrets(): string[] {
    return [...this.secretLog];
  }

  hasGrant(account: string, clientId: string): boolean {
    return this.grants.has(grantKey(account, clientId));
  }

  /** Records consent and returns a single-use code bound to client, redirect URI and PKCE. */
  createCode(request: CodeRequest, includeGranted: boolean): { code: string; scopes: string[] } {
    const key = grantKey(request.account, request.clientId);
    const grant = this.grants.get(key) ?? {
      account: request.account,
      clientId: request.clientId,
      scopes: new Set<string>(),
      refreshTokens: [],
    };
    if (!includeGranted) grant.scopes.clear();
    for (const s of request.scopes) grant.scopes.add(s);
    this.grants.set(key, grant);
    const code = `4/0sbx-${randomBytes(24).toString('base64url')}`;
    this.secretLog.push(code);
    const scopes = [...grant.scopes];
    this.codes.set(code, {
      ...request,
      scopes,
      expiresAt: this.options.now() + this.options.codeTtlSec * 1000,
    });
    return { code, scopes };
  }

  exchangeCode(
    clientId: string,
    code: string,
    redirectUri: string | undefined,
    verifier?: string,
  ): TokenResponse {
    const entry = this.codes.get(code);
    // Single use: a replayed code fails even if the first exchange failed on PKCE.
    this.codes.delete(code);
    if (!entry || entry.clientId !== clientId || entry.expiresAt <= this.options.now()) {
      throw new OAuthError(400, 'invalid_grant', 'Bad Request');
    }
    if (redirectUri !== entry.redirectUri)
      throw new OAuthError(400, 'redirect_uri_mismatch', 'Bad Request');
    if (entry.challenge !== undefined) {
      if (!verifier) throw new OAuthError(400, 'invalid_grant', 'Missing code verifier.');
      const computed = entry.challengeMethod === 'S256' ? s256(verifier) : verifier;
      if (computed !== entry.challenge)
        throw new OAuthError(400, 'invalid_grant', 'Invalid code verifier.');
    }
    const grant = this.grants.get(grantKey(entry.account, clientId));
    if (!grant) throw new OAuthError(400, 'invalid_grant', DEAD_REFRESH);
    return this.issueFor(grant, entry.scopes, entry.issueRefresh);
  }

  refresh(clientId: string, refreshToken: string): TokenResponse {
    const key = this.refreshTokens.get(refreshToken);
    const grant = key === undefined ? undefined : this.grants.get(key);
    if (!grant || grant.clientId !== clientId)
      throw new OAuthError(400, 'invalid_grant', DEAD_REFRESH);
    const response = this.issueFor(grant, [...grant.scopes], this.options.rotateRefreshTokens);
    if (this.options.rotateRefreshTokens) this.dropRefreshToken(grant, refreshToken);
    return response;
  }

  /** Issues tokens without the browser flow (tests that only need a connected account). */
  issueDirect(
    account: string,
    clientId: string,
    scopes: string[],
    withRefresh: boolean,
  ): TokenResponse {
    const key = grantKey(account, clientId);
    const grant = this.grants.get(key) ?? {
      account,
      clientId,
      scopes: new Set<string>(),
      refreshTokens: [],
    };
    for (const s of scopes) grant.scopes.add(s);
    this.grants.set(key, grant);
    return this.issueFor(grant, scopes, withRefresh);
  }

  /** Revokes the whole grant behind an access or refresh token. False if the token is unknown. */
  revoke(token: string): boolean {
    const key = this.accessTokens.get(token)?.grant ?? this.refreshTokens.get(token);
    if (key === undefined || !this.grants.has(key)) return false;
    const grant = this.grants.get(key)!;
    this.revokeGrant(grant.account, grant.clientId);
    return true;
  }

  /** What a user does under "Third-party access" in their Google account. */
  revokeGrant(account: string, clientId?: string): number {
    let count = 0;
    for (const [key, grant] of this.grants) {
      if (grant.account !== account || (clientId && grant.clientId !== clientId)) continue;
      this.grants.delete(key);
      for (const rt of grant.refreshTokens) this.refreshTokens.delete(rt);
      for (const [token, info] of this.accessTokens)
        if (info.grant === key) this.accessTokens.delete(token);
      count += 1;
    }
    this.revocations += count;
    return count;
  }

  /** The live access token's owner, or undefined when unknown, expired or revoked. */
  authenticate(token: string): AccessTokenInfo | undefined {
    const info = this.accessTokens.get(token);
    if (!info || info.expiresAt <= this.options.now() || !this.grants.has(info.grant))
      return undefined;
    return {
      account: info.account,
      clientId: info.clientId,
      scopes: info.scopes,
      expiresAt: info.expiresAt,
    };
  }

  isRefreshTokenActive(token: string): boolean {
    const key = this.refreshTokens.get(token);
    return key !== undefined && this.grants.has(key);
  }

  /** Makes current access tokens expire now, to test the 401 -> refresh path without waiting. */
  expireAccessTokens(account?: string): number {
    let count = 0;
    for (const info of this.accessTokens.values()) {
      if (account && info.account !== account) continue;
      info.expiresAt = Math.min(info.expiresAt, this.options.now());
      count += 1;
    }
    return count;
  }

  grantCount(): number {
    return this.grants.size;
  }

  private issueFor(grant: Grant, scopes: string[], withRefresh: boolean): TokenResponse {
    const key = grantKey(grant.account, grant.clientId);
    const accessToken = `ya29.sbx-${randomBytes(24).toString('base64url')}`;
    this.secretLog.push(accessToken);
    const ttl = this.options.accessTokenTtlSec;
    this.accessTokens.set(accessToken, {
      account: grant.account,
      clientId: grant.clientId,
      scopes,
      expiresAt: this.options.now() + ttl * 1000,
      grant: key,
    });
    this.issued.access += 1;
    const response: TokenResponse = {
      access_token: accessToken,
      expires_in: ttl,
      scope: scopes.join(' '),
      token_type: 'Bearer',
    };
    if (withRefresh) {
      const refreshToken = `1//sbx-${randomBytes(32).toString('base64url')}`;
      this.secretLog.push(refreshToken);
      this.refreshTokens.set(refreshToken, key);
      grant.refreshTokens.push(refreshToken);
      if (grant.refreshTokens.length > this.options.maxRefreshTokensPerGrant) {
        this.dropRefreshToken(grant, grant.refreshTokens[0]);
      }
      this.issued.refresh += 1;
      response.refresh_token = refreshToken;
    }
    return response;
  }

  private dropRefreshToken(grant: Grant, token: string): void {
    this.refreshTokens.delete(token);
    grant.refreshTokens = grant.refreshTokens.filter((t) => t !== token);
  }
}

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

function grantKey(account: string, clientId: string): string {
  return `${account}\n${clientId}`;
}
