import { randomBytes } from 'node:crypto';
import { renderConsentPage, renderErrorPage } from './consent-page.js';
import { mountOAuthAdmin } from './oauth2-admin.js';
import {
  field,
  parseAuthorizeRequest,
  withParams,
  type PendingAuthorization,
} from './oauth2-request.js';
import {
  OAuthError,
  TokenStore,
  type AccessTokenInfo,
  type OAuthAccount,
  type OAuthClient,
  type TokenResponse,
} from './oauth2-tokens.js';
import { html, json, redirect, type Reply, type RequestContext } from './router.js';
import type { SandboxServer } from './sandbox-server.js';

export interface OAuth2FakeOptions {
  clients: OAuthClient[];
  accounts: OAuthAccount[];
  /** Paths on the fake's port; defaults are Google's. */
  paths?: { authorize?: string; token?: string; revoke?: string };
  /** Default 3600 s. */
  accessTokenTtlSec?: number;
  codeTtlSec?: number;
  rotateRefreshTokens?: boolean;
  maxRefreshTokensPerGrant?: number;
  /**
   * `google`: a refresh token only with `access_type=offline`, and only on first consent or with
   * `prompt=consent` (Google's behaviour). `always`: with every code exchange.
   */
  refreshTokenPolicy?: 'google' | 'always';
  providerName?: string;
  scopeLabels?: Record<string, string>;
  now?: () => number;
  /**
   * Shapes every answer of the token endpoint the way the provider writes it: extra fields of a
   * success (Microsoft's `ext_expires_in`), its own error format, what it leaves out.
   */
  tokenReply?: (reply: Reply) => Reply;
}

export type AutoDecision = { decision: 'allow' | 'deny'; account?: string };

/**
 * An OAuth 2.0 authorization server: consent page (interactive) or `auto=allow|deny` (tests),
 * code exchange with PKCE, refresh, revoke, and introspection helpers for assertions.
 *
 * Non-interactive paths, for tests that follow the authorize URL with `redirect: 'manual'`:
 * - add `auto=allow` (optionally `account=<email>`) or `auto=deny` to the authorize URL; or
 * - `setAutoDecision({decision: 'allow'})` / `POST /__admin/oauth/auto {"decision":"allow"}`
 *   so unmodified authorize URLs from the service redirect straight back.
 */
export class OAuth2Fake {
  readonly tokens: TokenStore;
  readonly paths: { authorize: string; token: string; revoke: string };
  private autoDecision?: AutoDecision;
  private readonly pending = new Map<string, PendingAuthorization>();
  private readonly counters = {
    tokenRequests: {} as Record<string, number>,
    tokenErrors: {} as Record<string, number>,
    authorizations: { allowed: 0, denied: 0 },
  };

  constructor(
    private readonly server: SandboxServer,
    private readonly options: OAuth2FakeOptions,
  ) {
    this.paths = {
      authorize: options.paths?.authorize ?? '/o/oauth2/v2/auth',
      token: options.paths?.token ?? '/token',
      revoke: options.paths?.revoke ?? '/revoke',
    };
    this.tokens = new TokenStore({
      accessTokenTtlSec: options.accessTokenTtlSec ?? 3600,
      codeTtlSec: options.codeTtlSec ?? 600,
      rotateRefreshTokens: options.rotateRefreshTokens ?? false,
      maxRefreshTokensPerGrant: options.maxRefreshTokensPerGrant ?? 100,
      now: options.now ?? Date.now,
    });
    this.mount();
  }

  get providerName(): string {
    return this.options.providerName ?? 'OAuth';
  }

  /** The token's owner from an `Authorization: Bearer` header, or undefined. */
  authenticate(header: string | undefined): AccessTokenInfo | undefined {
    const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    return match ? this.tokens.authenticate(match[1]) : undefined;
  }

  introspect(token: string): { active: boolean } & Partial<AccessTokenInfo> {
    const info = this.tokens.authenticate(token);
    if (info) return { active: true, ...info };
    return { active: this.tokens.isRefreshTokenActive(token) };
  }

  setAutoDecision(auto: AutoDecision | undefined): void {
    this.autoDecision = auto;
  }

  issueTokens(
    account: string,
    scopes: string[],
    clientId = this.options.clients[0].clientId,
  ): TokenResponse {
    return this.tokens.issueDirect(account, clientId, scopes, true);
  }

  /**
   * Every secret this server knows of: the clients' secrets and every authorization code, access
   * token and refresh token it issued (spent, expired and revoked ones included), for leak checks.
   */
  issuedSecrets(): string[] {
    return [...this.options.clients.map((c) => c.clientSecret), ...this.tokens.issuedSecrets()];
  }

  stats(): Record<string, unknown> {
    return {
      ...this.counters,
      issued: { ...this.tokens.issued },
      revocations: this.tokens.revocations,
      activeGrants: this.tokens.grantCount(),
    };
  }

  private mount(): void {
    const s = this.server;
    s.route('GET', this.paths.authorize, (ctx) => this.authorize(ctx));
    s.route('POST', `${this.paths.authorize}/decision`, (ctx) => this.decision(ctx));
    s.route('POST', this.paths.token, (ctx) => {
      const reply = this.token(ctx);
      return this.options.tokenReply?.(reply) ?? reply;
    });
    s.route('POST', this.paths.revoke, (ctx) => this.revoke(ctx));
    s.addStats('oauth', () => this.stats());
    mountOAuthAdmin(s, this);
  }

  private authorize({ query }: RequestContext): Reply {
    const request = parseAuthorizeRequest(query, this.options.clients, this.providerName);
    if ('status' in request) return request;
    const auto = query.get('auto');
    const decided: AutoDecision | undefined =
      auto === 'allow' || auto === 'deny'
        ? { decision: auto, account: query.get('account') ?? undefined }
        : this.autoDecision;
    if (decided) return redirect(this.decide(request, decided.decision, decided.account));
    if (request.promptNone) {
      // No page may be shown: succeed only when this account already consented.
      const account = this.pickAccount(request.loginHint);
      if (this.tokens.hasGrant(account, request.clientId)) {
        return redirect(this.decide(request, 'allow', account));
      }
      const params = { error: 'consent_required', state: request.state };
      return redirect(withParams(request.redirectUri, params));
    }
    const id = randomBytes(16).toString('base64url');
    this.pending.set(id, request);
    return html(
      200,
      renderConsentPage({
        providerName: this.providerName,
        clientName: request.clientName,
        requestId: id,
        decisionPath: `${this.paths.authorize}/decision`,
        scopes: request.scopes.map((scope) => ({
          scope,
          label: this.options.scopeLabels?.[scope],
        })),
        accounts: this.options.accounts,
        selected: this.pickAccount(request.loginHint),
      }),
    );
  }

  private decision({ body }: RequestContext): Reply {
    const id = field(body, 'request') ?? '';
    const request = this.pending.get(id);
    if (!request) {
      const page = renderErrorPage(
        this.providerName,
        400,
        'invalid_request',
        'Unknown or used authorization request.',
      );
      return html(400, page);
    }
    this.pending.delete(id);
    const decision = field(body, 'decision') === 'allow' ? 'allow' : 'deny';
    return redirect(this.decide(request, decision, field(body, 'account')));
  }

  /** Returns the redirect back to the client, with a code or `error=access_denied`. */
  private decide(
    request: PendingAuthorization,
    decision: 'allow' | 'deny',
    accountEmail?: string,
  ): string {
    if (decision === 'deny') {
      this.counters.authorizations.denied += 1;
      return withParams(request.redirectUri, { error: 'access_denied', state: request.state });
    }
    this.counters.authorizations.allowed += 1;
    const account = this.pickAccount(accountEmail ?? request.loginHint);
    const firstConsent = !this.tokens.hasGrant(account, request.clientId);
    const issueRefresh =
      this.options.refreshTokenPolicy === 'always' ||
      (request.offline && (firstConsent || request.promptConsent));
    const { code, scopes } = this.tokens.createCode(
      { ...request, account, issueRefresh },
      request.includeGranted,
    );
    return withParams(request.redirectUri, {
      state: request.state,
      code,
      scope: scopes.join(' '),
      authuser: '0',
      prompt: firstConsent || request.promptConsent ? 'consent' : 'none',
    });
  }

  private token({ req, body }: RequestContext): Reply {
    const grantType = field(body, 'grant_type') ?? '';
    this.counters.tokenRequests[grantType || '(none)'] =
      (this.counters.tokenRequests[grantType || '(none)'] ?? 0) + 1;
    try {
      const clientId = this.authenticateClient(req.headers.authorization, body);
      if (grantType === 'authorization_code') {
        const code = field(body, 'code');
        if (!code) throw new OAuthError(400, 'invalid_request', 'Missing required parameter: code');
        return json(
          200,
          this.tokens.exchangeCode(
            clientId,
            code,
            field(body, 'redirect_uri'),
            field(body, 'code_verifier'),
          ),
          noStore,
        );
      }
      if (grantType === 'refresh_token') {
        const refreshToken = field(body, 'refresh_token');
        if (!refreshToken)
          throw new OAuthError(400, 'invalid_request', 'Missing required parameter: refresh_token');
        return json(200, this.tokens.refresh(clientId, refreshToken), noStore);
      }
      throw new OAuthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType}`);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      this.counters.tokenErrors[err.error] = (this.counters.tokenErrors[err.error] ?? 0) + 1;
      return json(err.status, { error: err.error, error_description: err.description }, noStore);
    }
  }

  private revoke({ query, body }: RequestContext): Reply {
    const token = query.get('token') ?? field(body, 'token') ?? '';
    if (!this.tokens.revoke(token)) {
      return json(400, { error: 'invalid_token', error_description: 'Token expired or revoked' });
    }
    return json(200, {});
  }

  /** client_secret_post or client_secret_basic; returns the authenticated client id. */
  private authenticateClient(header: string | undefined, body: unknown): string {
    let id = field(body, 'client_id');
    let secret = field(body, 'client_secret');
    const basic = /^Basic\s+(\S+)$/i.exec(header ?? '');
    if (basic) {
      const [u, p = ''] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
      id = decodeURIComponent(u);
      secret = decodeURIComponent(p);
    }
    const client = this.options.clients.find((c) => c.clientId === id);
    if (!client) throw new OAuthError(401, 'invalid_client', 'The OAuth client was not found.');
    if (client.clientSecret !== secret) throw new OAuthError(401, 'invalid_client', 'Unauthorized');
    return client.clientId;
  }

  private pickAccount(hint?: string): string {
    const known = this.options.accounts.find((a) => a.email === hint);
    return (known ?? this.options.accounts[0]).email;
  }
}

const noStore = {
  'cache-control': 'no-cache, no-store, max-age=0, must-revalidate',
  pragma: 'no-cache',
};
