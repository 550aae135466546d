import { randomBytes } from 'node:crypto';
import {
  renderConsentPage,
  renderErrorPage,
  html,
  json,
  redirect,
  type Reply,
  type RequestContext,
  type SandboxServer,
} from '@pdeck/integration-sdk/sandbox';
import type { JiraAccount, JiraData } from './jira-data.js';

export interface JiraApp {
  clientId: string;
  clientSecret: string;
  name: string;
  /** When set, only these callback URLs are accepted. */
  redirectUris?: string[];
}

export interface JiraOAuthOptions {
  /** Access token lifetime (Atlassian: 1 hour). */
  accessTokenTtlSec?: number;
  /** Reuse of a rotated refresh token within this window still works (Atlassian: 10 minutes). */
  reuseLeewaySec?: number;
  now: () => number;
}

export interface AccessRec {
  token: string;
  accountId: string;
  clientId: string;
  scopes: string[];
  expiresAt: number;
  family: string;
}

interface Family {
  id: string;
  accountId: string;
  clientId: string;
  scopes: string[];
  createdAt: number;
  lastUsedAt: number;
  current?: string;
  /** Rotated-out refresh tokens and when they were rotated. */
  rotated: Map<string, number>;
  revoked: boolean;
}

const DAY = 86_400_000;
const INVALID_REFRESH = 'Unknown or invalid refresh token.';

/**
 * Atlassian OAuth 2.0 (3LO) on auth.atlassian.com: `/authorize` (consent page, or
 * `auto=allow&account=<handle|accountId>` / `auto=deny`), `POST /oauth/token` with a JSON body
 * (authorization_code without PKCE, refresh_token with rotation). Sources:
 * https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/ and
 * https://developer.atlassian.com/cloud/oauth/getting-started/refresh-tokens
 *
 * Rotating refresh tokens: every refresh returns a new refresh token; the old one keeps working
 * for `reuseLeewaySec` (10 min); reusing it later revokes the whole family (every refresh and
 * access token of that consent) and answers 403 `invalid_grant`. Families also die after 90 days
 * without use and 365 days after consent.
 */
export class JiraOAuth {
  private readonly codes = new Map<
    string,
    {
      clientId: string;
      redirectUri: string;
      accountId: string;
      scopes: string[];
      expiresAt: number;
    }
  >();
  private readonly pending = new Map<string, { query: URLSearchParams; app: JiraApp }>();
  private readonly access = new Map<string, AccessRec>();
  private readonly refreshIndex = new Map<string, string>();
  private readonly families = new Map<string, Family>();
  private readonly secrets: string[] = [];
  private autoDecision?: { decision: 'allow' | 'deny'; account?: string };
  readonly counters = {
    authorizations: { allowed: 0, denied: 0 },
    tokenRequests: {} as Record<string, number>,
    tokenErrors: {} as Record<string, number>,
    familiesRevoked: 0,
    lastAuthorizeQuery: undefined as Record<string, string> | undefined,
  };
  private readonly ttl: number;
  private readonly leewayMs: number;

  constructor(
    server: SandboxServer,
    private readonly data: JiraData,
    private readonly apps: JiraApp[],
    private readonly options: JiraOAuthOptions,
  ) {
    this.ttl = options.accessTokenTtlSec ?? 3600;
    this.leewayMs = (options.reuseLeewaySec ?? 600) * 1000;
    server.route('GET', '/authorize', (ctx) => this.authorize(ctx));
    server.route('POST', '/authorize/decision', (ctx) => this.decision(ctx));
    server.route('POST', '/oauth/token', (ctx) => this.token(ctx));
  }

  setAutoDecision(auto: { decision: 'allow' | 'deny'; account?: string } | undefined): void {
    this.autoDecision = auto;
  }

  /** The live access token behind an `Authorization: Bearer` header. */
  authenticate(header: string | undefined): AccessRec | undefined {
    const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    const rec = m ? this.access.get(m[1]) : undefined;
    if (!rec || rec.expiresAt <= this.options.now()) return undefined;
    if (this.families.get(rec.family)?.revoked) return undefined;
    return rec;
  }

  /** Tokens without the browser flow. `offline_access` in scopes gives a refresh token. */
  issueTokens(account: string, scopes: string[], clientId = this.apps[0].clientId): TokenBody {
    const fam = this.newFamily(this.data.account(account).accountId, clientId, scopes);
    return this.issue(fam);
  }

  expireAccessTokens(): number {
    let n = 0;
    for (const rec of this.access.values()) {
      rec.expiresAt = Math.min(rec.expiresAt, this.options.now());
      n++;
    }
    return n;
  }

  /** Every client secret, code and token issued, for leak checks. */
  issuedSecrets(): string[] {
    return [...this.apps.map((a) => a.clientSecret), ...this.secrets];
  }

  isRefreshTokenActive(token: string): boolean {
    const fam = this.families.get(this.refreshIndex.get(token) ?? '');
    return !!fam && !fam.revoked && fam.current === token;
  }

  private authorize({ query }: RequestContext): Reply {
    this.counters.lastAuthorizeQuery = Object.fromEntries(query);
    const fail = (status: number, error: string, detail: string) =>
      html(status, renderErrorPage('Atlassian', status, error, detail));
    const app = this.apps.find((a) => a.clientId === query.get('client_id'));
    if (!app) return fail(400, 'invalid_client', 'Unknown client_id.');
    const redirectUri = query.get('redirect_uri') ?? '';
    if (!redirectUri || (app.redirectUris && !app.redirectUris.includes(redirectUri)))
      return fail(400, 'invalid_request', `redirect_uri '${redirectUri}' is not registered.`);
    if (query.get('audience') !== 'api.atlassian.com')
      return fail(400, 'invalid_request', "audience must be 'api.atlassian.com'.");
    if (query.get('response_type') !== 'code')
      return fail(400, 'unsupported_response_type', "response_type must be 'code'.");
    if (!(query.get('scope') ?? '').trim()) return fail(400, 'invalid_scope', 'scope is required.');
    const auto = query.get('auto');
    const decided: { decision: 'allow' | 'deny'; account?: string } | undefined =
      auto === 'allow' || auto === 'deny'
        ? { decision: auto, account: query.get('account') ?? undefined }
        : this.autoDecision;
    if (decided) return redirect(this.decide(query, decided.decision, decided.account));
    const id = randomBytes(16).toString('base64url');
    this.pending.set(id, { query, app });
    return html(
      200,
      renderConsentPage({
        providerName: 'Atlassian',
        clientName: app.name,
        requestId: id,
        decisionPath: '/authorize/decision',
        scopes: (query.get('scope') ?? '')
          .split(' ')
          .filter(Boolean)
          .map((scope) => ({ scope })),
        accounts: this.data.accounts.map((a) => ({ email: a.handle, name: a.displayName })),
        selected: this.data.accounts[0].handle,
      }),
    );
  }

  private decision({ body }: RequestContext): Reply {
    const b = (body ?? {}) as Record<string, string>;
    const pending = this.pending.get(b.request ?? '');
    if (!pending)
      return html(400, renderErrorPage('Atlassian', 400, 'invalid_request', 'Unknown request.'));
    this.pending.delete(b.request);
    return redirect(
      this.decide(pending.query, b.decision === 'allow' ? 'allow' : 'deny', b.account),
    );
  }

  private decide(query: URLSearchParams, decision: 'allow' | 'deny', account?: string): string {
    const target = new URL(query.get('redirect_uri')!);
    const state = query.get('state');
    if (state !== null) target.searchParams.set('state', state);
    if (decision === 'deny') {
      this.counters.authorizations.denied++;
      target.searchParams.set('error', 'access_denied');
      target.searchParams.set('error_description', 'User did not authorize the request');
      return target.toString();
    }
    this.counters.authorizations.allowed++;
    const acct: JiraAccount = account ? this.data.account(account) : this.data.accounts[0];
    const code = `sbx-code-${randomBytes(24).toString('base64url')}`;
    this.secrets.push(code);
    this.codes.set(code, {
      clientId: query.get('client_id')!,
      redirectUri: query.get('redirect_uri')!,
      accountId: acct.accountId,
      scopes: (query.get('scope') ?? '').split(' ').filter(Boolean),
      expiresAt: this.options.now() + 600_000,
    });
    target.searchParams.set('code', code);
    return target.toString();
  }

  private token({ req, body }: RequestContext): Reply {
    const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    const grant = typeof b.grant_type === 'string' ? b.grant_type : '(none)';
    this.counters.tokenRequests[grant] = (this.counters.tokenRequests[grant] ?? 0) + 1;
    const fail = (status: number, error: string, description: string): Reply => {
      this.counters.tokenErrors[error] = (this.counters.tokenErrors[error] ?? 0) + 1;
      return json(status, { error, error_description: description });
    };
    // The token endpoint takes JSON, not a form.
    if (!/^application\/json/i.test(req.headers['content-type'] ?? ''))
      return fail(415, 'invalid_request', 'Content-Type must be application/json.');
    const app = this.apps.find((a) => a.clientId === b.client_id);
    if (!app || app.clientSecret !== b.client_secret)
      return fail(401, 'access_denied', 'Unauthorized');
    if (grant === 'authorization_code') {
      const code = typeof b.code === 'string' ? b.code : '';
      const entry = this.codes.get(code);
      this.codes.delete(code);
      if (!entry || entry.clientId !== app.clientId || entry.expiresAt <= this.options.now())
        return fail(403, 'invalid_grant', 'Invalid authorization code');
      if (entry.redirectUri !== b.redirect_uri)
        return fail(403, 'invalid_grant', 'redirect_uri does not match the authorization request');
      return json(200, this.issue(this.newFamily(entry.accountId, app.clientId, entry.scopes)));
    }
    if (grant === 'refresh_token') {
      const token = typeof b.refresh_token === 'string' ? b.refresh_token : '';
      const fam = this.families.get(this.refreshIndex.get(token) ?? '');
      const now = this.options.now();
      if (!fam || fam.revoked || fam.clientId !== app.clientId)
        return fail(403, 'invalid_grant', INVALID_REFRESH);
      if (now - fam.lastUsedAt > 90 * DAY || now - fam.createdAt > 365 * DAY) {
        this.revokeFamily(fam);
        return fail(403, 'invalid_grant', INVALID_REFRESH);
      }
      if (fam.current !== token) {
        const rotatedAt = fam.rotated.get(token) ?? 0;
        if (now - rotatedAt > this.leewayMs) {
          // Reuse outside the leeway: treated as a leaked token, the whole family dies.
          this.revokeFamily(fam);
          return fail(403, 'invalid_grant', INVALID_REFRESH);
        }
      }
      if (fam.current) fam.rotated.set(fam.current, now);
      return json(200, this.issue(fam));
    }
    return fail(400, 'unsupported_grant_type', `Unsupported grant_type: ${grant}`);
  }

  private newFamily(accountId: string, clientId: string, scopes: string[]): Family {
    const now = this.options.now();
    const fam: Family = {
      id: randomBytes(8).toString('hex'),
      accountId,
      clientId,
      scopes,
      createdAt: now,
      lastUsedAt: now,
      rotated: new Map(),
      revoked: false,
    };
    this.families.set(fam.id, fam);
    return fam;
  }

  private issue(fam: Family): TokenBody {
    const token = `sbx-at-${randomBytes(24).toString('base64url')}`;
    this.secrets.push(token);
    this.access.set(token, {
      token,
      accountId: fam.accountId,
      clientId: fam.clientId,
      scopes: fam.scopes,
      expiresAt: this.options.now() + this.ttl * 1000,
      family: fam.id,
    });
    const body: TokenBody = {
      access_token: token,
      expires_in: this.ttl,
      scope: fam.scopes.join(' '),
      token_type: 'bearer',
    };
    if (fam.scopes.includes('offline_access')) {
      const refresh = `sbx-rt-${randomBytes(32).toString('base64url')}`;
      this.secrets.push(refresh);
      this.refreshIndex.set(refresh, fam.id);
      fam.current = refresh;
      fam.lastUsedAt = this.options.now();
      body.refresh_token = refresh;
    }
    return body;
  }

  private revokeFamily(fam: Family): void {
    if (!fam.revoked) this.counters.familiesRevoked++;
    fam.revoked = true;
  }
}

export interface TokenBody {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
  scope: string;
  token_type: 'bearer';
}
