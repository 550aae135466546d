import {
  renderConsentPage,
  renderErrorPage,
  html,
  redirect,
  type Reply,
  type RequestContext,
  type SandboxServer,
} from '@pdeck/integration-sdk/sandbox';
import { hex } from './ids.js';
import { expectedSignature, parseOAuthHeader, sameString } from './oauth1-signature.js';
import type { TrelloData } from './trello-data.js';
import type { AutoDecision, MemberRec, TokenRec, TrelloApp } from './trello-types.js';

export type { AutoDecision, TokenRec, TrelloApp } from './trello-types.js';

interface RequestTokenRec {
  secret: string;
  key: string;
  callback: string;
  scope: string[];
  expiration: string;
  verifier?: string;
  idMember?: string;
}

const TIMESTAMP_WINDOW_S = 300;
const EXPIRATIONS: Record<string, number | null> = {
  '1hour': 3_600_000,
  '1day': 86_400_000,
  '30days': 30 * 86_400_000,
  never: null,
};
const SCOPES = new Set(['read', 'write', 'account']);
const text = (status: number, body: string): Reply => ({
  status,
  body,
  headers: { 'content-type': 'text/plain; charset=utf-8' },
});

/**
 * Trello's OAuth 1.0a (OAuthGetRequestToken, OAuthAuthorizeToken, OAuthGetAccessToken): request
 * token, consent page, access token, every signed step verified with HMAC-SHA1 against the app
 * secret (and the request token secret), nonces single use. Access tokens issued here are the API
 * tokens checked on /1/... calls.
 */
export class TrelloOAuth {
  readonly tokens = new Map<string, TokenRec>();
  readonly counters = {
    requestTokens: 0,
    authorizations: { allowed: 0, denied: 0 },
    accessTokens: 0,
    badSignatures: 0,
    badVerifiers: 0,
    revoked: 0,
    lastAuthorizeQuery: undefined as Record<string, string> | undefined,
  };
  onRevoke: (token: TokenRec) => void = () => undefined;
  private readonly requestTokens = new Map<string, RequestTokenRec>();
  private readonly nonces = new Set<string>();
  /** Request token secrets and verifiers ever issued (access tokens live on in `tokens`). */
  private readonly flowSecrets: string[] = [];
  private auto?: AutoDecision;

  constructor(
    server: SandboxServer,
    private readonly data: TrelloData,
    readonly apps: TrelloApp[],
    private readonly now: () => number,
  ) {
    server.route('POST', '/1/OAuthGetRequestToken', (ctx) => this.requestToken(ctx));
    server.route('GET', '/1/OAuthAuthorizeToken', (ctx) => this.authorize(ctx));
    server.route('POST', '/1/OAuthAuthorizeToken', (ctx) => this.decisionForm(ctx));
    server.route('POST', '/1/OAuthGetAccessToken', (ctx) => this.accessToken(ctx));
  }

  setAutoDecision(auto: AutoDecision | undefined): void {
    this.auto = auto;
  }

  /** A token without the browser flow, as if the member had authorized the app. */
  issueToken(
    member: string,
    opts: { scope?: string; expiration?: string; key?: string } = {},
  ): TokenRec {
    const expiration = opts.expiration ?? 'never';
    const rec: TokenRec = {
      token: hex(32),
      secret: hex(32),
      key: opts.key ?? this.apps[0].key,
      idMember: this.data.member(member).id,
      scope: (opts.scope ?? 'read').split(','),
      expiration,
      expiresAt: EXPIRATIONS[expiration] == null ? null : this.now() + EXPIRATIONS[expiration]!,
      createdAt: new Date(this.now()).toISOString(),
      revoked: false,
    };
    this.tokens.set(rec.token, rec);
    return rec;
  }

  /**
   * Every secret this server knows of, for leak checks: the apps' secrets, every access token
   * and token secret (revoked ones included), every request token secret and verifier.
   */
  issuedSecrets(): string[] {
    const access = [...this.tokens.values()].flatMap((rec) => [rec.token, rec.secret]);
    return [...this.apps.map((a) => a.secret), ...access, ...this.flowSecrets];
  }

  /** The member removed the app (or DELETE /1/tokens/{token}); later calls answer 401. */
  revoke(token: string): boolean {
    const rec = this.tokens.get(token);
    if (!rec || rec.revoked) return false;
    rec.revoked = true;
    this.counters.revoked += 1;
    this.onRevoke(rec);
    return true;
  }

  /** A live token for this key, or undefined (revoked, expired, unknown, other app). */
  active(token: string | undefined, key?: string): TokenRec | undefined {
    const rec = token ? this.tokens.get(token) : undefined;
    if (!rec || rec.revoked || (key !== undefined && rec.key !== key)) return undefined;
    if (rec.expiresAt !== null && rec.expiresAt <= this.now()) return undefined;
    return rec;
  }

  private requestToken(ctx: RequestContext): Reply {
    const verified = this.verify(ctx, () => '');
    if ('status' in verified) return verified;
    const callback = verified.oauth.oauth_callback;
    if (!callback || verified.oauth.oauth_token) return text(400, 'oauth_callback required');
    const token = hex(16);
    const secret = hex(16);
    this.flowSecrets.push(secret);
    this.requestTokens.set(token, {
      secret,
      key: verified.app.key,
      callback,
      scope: ['read'],
      expiration: '30days',
    });
    this.counters.requestTokens += 1;
    return form({
      oauth_token: token,
      oauth_token_secret: this.requestTokens.get(token)!.secret,
      oauth_callback_confirmed: 'true',
    });
  }

  private authorize({ query }: RequestContext): Reply {
    this.counters.lastAuthorizeQuery = Object.fromEntries(query);
    const token = query.get('oauth_token') ?? '';
    const rec = this.requestTokens.get(token);
    const fail = (detail: string) =>
      html(400, renderErrorPage('Trello', 400, 'invalid_request', detail));
    if (!rec) return fail('The request token is unknown or was already used.');
    const scope = (query.get('scope') ?? 'read').split(',').filter(Boolean);
    const expiration = query.get('expiration') ?? '30days';
    if (!scope.every((s) => SCOPES.has(s))) return fail(`Invalid scope: ${query.get('scope')}`);
    if (!(expiration in EXPIRATIONS)) return fail(`Invalid expiration: ${expiration}`);
    Object.assign(rec, { scope, expiration });
    const auto = query.get('auto');
    const decided: AutoDecision | undefined =
      auto === 'allow' || auto === 'deny'
        ? { decision: auto, account: query.get('account') ?? undefined }
        : this.auto;
    if (decided) return this.decide(token, decided.decision, decided.account);
    const app = this.apps.find((a) => a.key === rec.key);
    const members = [...this.data.members.values()];
    return html(
      200,
      renderConsentPage({
        providerName: 'Trello',
        clientName: query.get('name') ?? app?.name ?? 'An application',
        requestId: token,
        decisionPath: '/1/OAuthAuthorizeToken',
        scopes: [
          ...scope.map((s) => ({
            scope: s,
            label: `${s[0].toUpperCase()}${s.slice(1)} your boards`,
          })),
          { scope: `expiration=${expiration}`, label: 'Access lasts' },
        ],
        accounts: members.map((m) => ({ email: m.username, name: m.fullName })),
        selected: members[0]?.username ?? '',
      }),
    );
  }

  private decisionForm({ body }: RequestContext): Reply {
    const fields = (body ?? {}) as Record<string, string>;
    return this.decide(
      fields.request ?? '',
      fields.decision === 'allow' ? 'allow' : 'deny',
      fields.account,
    );
  }

  /** 302 to the stored callback with oauth_token, plus oauth_verifier only when allowed. */
  private decide(token: string, decision: 'allow' | 'deny', account?: string): Reply {
    const rec = this.requestTokens.get(token);
    if (!rec)
      return html(400, renderErrorPage('Trello', 400, 'invalid_request', 'Unknown request token.'));
    const back = new URL(rec.callback);
    back.searchParams.set('oauth_token', token);
    if (decision === 'deny') {
      this.requestTokens.delete(token);
      this.counters.authorizations.denied += 1;
      return redirect(back.toString());
    }
    const member: MemberRec = this.data.member(
      account ?? [...this.data.members.values()][0].username,
    );
    rec.idMember = member.id;
    rec.verifier = hex(16);
    this.flowSecrets.push(rec.verifier);
    this.counters.authorizations.allowed += 1;
    back.searchParams.set('oauth_verifier', rec.verifier);
    return redirect(back.toString());
  }

  private accessToken(ctx: RequestContext): Reply {
    const token = parseOAuthHeader(ctx.req.headers.authorization)?.oauth_token ?? '';
    const rec = this.requestTokens.get(token);
    if (!rec) return text(401, 'invalid token');
    const verified = this.verify(ctx, () => rec.secret);
    if ('status' in verified) return verified;
    // Single use: the first correctly signed exchange spends the request token and its verifier.
    this.requestTokens.delete(token);
    const verifier = verified.oauth.oauth_verifier ?? '';
    if (
      !rec.verifier ||
      !rec.idMember ||
      !sameString(verifier, rec.verifier) ||
      rec.key !== verified.app.key
    ) {
      this.counters.badVerifiers += 1;
      return text(401, 'invalid verifier');
    }
    const issued = this.issueToken(rec.idMember, {
      scope: rec.scope.join(','),
      expiration: rec.expiration,
      key: rec.key,
    });
    this.counters.accessTokens += 1;
    return form({ oauth_token: issued.token, oauth_token_secret: issued.secret });
  }

  /** Checks consumer key, HMAC-SHA1 signature, timestamp window and nonce reuse. */
  private verify(
    ctx: RequestContext,
    tokenSecret: () => string,
  ): { oauth: Record<string, string>; app: TrelloApp } | Reply {
    const oauth = parseOAuthHeader(ctx.req.headers.authorization);
    const app = this.apps.find((a) => a.key === oauth?.oauth_consumer_key);
    if (!oauth || !app) return text(401, 'invalid consumer');
    const isForm = (ctx.req.headers['content-type'] ?? '').startsWith(
      'application/x-www-form-urlencoded',
    );
    // The client signed the URL it sent to, which is this host as it addressed it.
    const url = new URL(ctx.req.url ?? '/', `http://${ctx.req.headers.host ?? 'localhost'}`);
    const expected = expectedSignature({
      method: ctx.req.method ?? 'POST',
      url,
      oauth,
      formBody: isForm ? ctx.rawBody : undefined,
      consumerSecret: app.secret,
      tokenSecret: tokenSecret(),
    });
    if (
      oauth.oauth_signature_method !== 'HMAC-SHA1' ||
      !sameString(oauth.oauth_signature ?? '', expected)
    ) {
      this.counters.badSignatures += 1;
      return text(401, 'invalid signature');
    }
    const age = Math.abs(this.now() / 1000 - Number(oauth.oauth_timestamp));
    const nonce = `${oauth.oauth_timestamp}:${oauth.oauth_nonce}`;
    if (!(age <= TIMESTAMP_WINDOW_S) || !oauth.oauth_nonce || this.nonces.has(nonce)) {
      return text(401, 'invalid timestamp or nonce');
    }
    this.nonces.add(nonce);
    return { oauth, app };
  }
}

function form(params: Record<string, string>): Reply {
  return {
    status: 200,
    body: new URLSearchParams(params).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  };
}
