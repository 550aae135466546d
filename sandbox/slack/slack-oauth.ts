import { randomBytes, randomInt } from 'node:crypto';
import {
  SandboxNotFoundError,
  renderConsentPage,
  renderErrorPage,
  html,
  json,
  redirect,
  type Reply,
  type RequestContext,
  type SandboxServer,
} from '@pdeck/integration-sdk/sandbox';
import { callArgs, commaList } from './api-args.js';
import type { SlackData, UserRec } from './slack-data.js';
import type { Grant, IssuedPair } from './tokens.js';

export interface SlackApp {
  clientId: string;
  clientSecret: string;
  /** Signs Events API requests; used as a plain UTF-8 string, never decoded. */
  signingSecret: string;
  appId: string;
  name: string;
  /** Expiring access tokens and refresh tokens (Slack: opt-in, can't be turned off). */
  tokenRotation: boolean;
}

/** The sandbox app, with token rotation. */
export const SANDBOX_SLACK_APP: SlackApp = {
  clientId: '7310846253017.7325519846032',
  clientSecret: '4f9c2d7e81b34a06c5e9f1d2a7b8c3e6',
  signingSecret: 'a83f6c1e9d27b4f05e8c3a1d6b29f74e',
  appId: 'A0PDECKAPP',
  name: 'PDeck Integrations (sandbox)',
  tokenRotation: true,
};

export type AutoDecision = { decision: 'allow' | 'deny'; account?: string };

export interface SlackOAuthOptions {
  /** Handles of the users who may consent on the consent page (`alice`, `bob`). */
  accounts: readonly string[];
  now: () => number;
}

interface CodeRec {
  appId: string;
  redirectUri: string;
  userId: string;
  teamId: string;
  scopes: string[];
  userScopes: string[];
  expiresAt: number;
}

/** A scope name: `channels:history`, `users:read.email`, `incoming-webhook`. */
const SCOPE = /^[a-z][a-z0-9._-]*(?::[a-z0-9._-]+)*$/;
const CODE_TTL_MS = 10 * 60_000;

/**
 * Slack OAuth v2 (https://docs.slack.dev/authentication/installing-with-oauth):
 * `GET /oauth/v2/authorize` with comma-separated `scope` (bot) and `user_scope` (user token),
 * a consent page (or `auto=allow&account=<handle>` / `auto=deny`), and `POST /api/oauth.v2.access`
 * (https://docs.slack.dev/reference/methods/oauth.v2.access) for `authorization_code` and,
 * with token rotation, `refresh_token` (https://docs.slack.dev/authentication/using-token-rotation).
 * Client credentials by HTTP Basic or in the body; errors are HTTP 200 `{ok:false, error}`.
 *
 * Simplifications: `redirect_uri` is required in authorize and any http(s) URL is accepted (no
 * configured Redirect URLs); `team` is accepted and ignored (each user has one workspace); no
 * PKCE, no `oauth.v2.exchange`, no `/oauth/v2_user/authorize`.
 */
export class SlackOAuth {
  readonly counters = {
    authorizations: { allowed: 0, denied: 0 },
    tokenRequests: {} as Record<string, number>,
    tokenErrors: {} as Record<string, number>,
    /** Refresh tokens presented again within the grace period. */
    refreshReuse: 0,
  };
  private readonly codes = new Map<string, CodeRec>();
  private readonly pending = new Map<string, URLSearchParams>();
  private autoDecision?: AutoDecision;

  constructor(
    server: SandboxServer,
    private readonly data: SlackData,
    private readonly apps: SlackApp[],
    private readonly options: SlackOAuthOptions,
  ) {
    server.route('GET', '/oauth/v2/authorize', (ctx) => this.authorize(ctx));
    server.route('POST', '/oauth/v2/authorize/decision', (ctx) => this.decision(ctx));
    server.route('POST', '/api/oauth.v2.access', (ctx) => this.access(ctx));
  }

  /** Unmodified authorize URLs are decided at once (`undefined` restores the consent page). */
  setAutoDecision(auto: AutoDecision | undefined): void {
    this.autoDecision = auto;
  }

  /** Installs without the browser: the oauth.v2.access body the code exchange would answer. */
  issueTokens(
    account: string,
    scopes: { scopes?: string[]; userScopes?: string[] },
    appId = this.apps[0].appId,
  ): Record<string, unknown> {
    const user = this.data.user(account);
    const app = this.apps.find((a) => a.appId === appId);
    if (!app) throw new SandboxNotFoundError(`unknown app ${appId}`);
    return this.install(app, user, scopes.scopes ?? [], scopes.userScopes ?? []);
  }

  private authorize({ query }: RequestContext): Reply {
    const fail = (error: string, detail: string) =>
      html(400, renderErrorPage('Slack', 400, error, detail));
    const app = this.apps.find((a) => a.clientId === query.get('client_id'));
    if (!app) return fail('invalid_client_id', 'Unknown client_id.');
    if (!/^https?:\/\/[^#]+$/.test(query.get('redirect_uri') ?? ''))
      return fail('bad_redirect_uri', 'redirect_uri must be an http(s) URL without a fragment.');
    const scopes = [
      ...commaList(query.get('scope') ?? ''),
      ...commaList(query.get('user_scope') ?? ''),
    ];
    if (!scopes.length) return fail('invalid_scope', 'Request scope or user_scope.');
    // A space-separated list is one scope name with spaces in it, which Slack refuses.
    const bad = scopes.find((s) => !SCOPE.test(s));
    if (bad) return fail('invalid_scope', `Invalid permissions requested: "${bad}".`);
    const auto = query.get('auto');
    const decided: AutoDecision | undefined =
      auto === 'allow' || auto === 'deny'
        ? { decision: auto, account: query.get('account') ?? undefined }
        : this.autoDecision;
    if (decided) {
      const account = this.consenting(decided.account);
      if (!account) return fail('invalid_account', `Unknown account ${decided.account}.`);
      return redirect(this.decide(query, decided.decision, account));
    }
    const id = randomBytes(16).toString('base64url');
    this.pending.set(id, query);
    const accounts = this.options.accounts.map((h) => this.data.user(h));
    return html(
      200,
      renderConsentPage({
        providerName: 'Slack',
        clientName: app.name,
        requestId: id,
        decisionPath: '/oauth/v2/authorize/decision',
        scopes: scopes.map((scope) => ({ scope })),
        accounts: accounts.map((u) => ({
          email: u.name,
          name: `${u.realName} (${this.data.workspace(u.teamId).name})`,
        })),
        selected: accounts[0]?.name ?? '',
      }),
    );
  }

  private decision({ body }: RequestContext): Reply {
    const b = (body ?? {}) as Record<string, string>;
    const query = this.pending.get(b.request ?? '');
    const account = this.consenting(b.account);
    if (!query || !account)
      return html(400, renderErrorPage('Slack', 400, 'invalid_request', 'Unknown request.'));
    this.pending.delete(b.request);
    return redirect(this.decide(query, b.decision === 'allow' ? 'allow' : 'deny', account));
  }

  /** A consenting account by handle (the first one when absent). */
  private consenting(handle: string | undefined): UserRec | undefined {
    const name = handle ?? this.options.accounts[0];
    return this.options.accounts.includes(name) ? this.data.user(name) : undefined;
  }

  private decide(query: URLSearchParams, decision: 'allow' | 'deny', user: UserRec): string {
    const target = new URL(query.get('redirect_uri')!);
    const state = query.get('state');
    if (decision === 'deny') {
      this.counters.authorizations.denied++;
      target.searchParams.set('error', 'access_denied');
      if (state !== null) target.searchParams.set('state', state);
      return target.toString();
    }
    this.counters.authorizations.allowed++;
    const app = this.apps.find((a) => a.clientId === query.get('client_id'))!;
    const code = `${randomInt(1e9, 1e10)}.${randomInt(1e12, 1e13)}.${randomBytes(32).toString('hex')}`;
    this.codes.set(code, {
      appId: app.appId,
      redirectUri: query.get('redirect_uri')!,
      userId: user.id,
      teamId: user.teamId,
      scopes: commaList(query.get('scope') ?? ''),
      userScopes: commaList(query.get('user_scope') ?? ''),
      expiresAt: this.options.now() + CODE_TTL_MS,
    });
    target.searchParams.set('code', code);
    if (state !== null) target.searchParams.set('state', state);
    return target.toString();
  }

  private access(ctx: RequestContext): Reply {
    const args = callArgs(ctx);
    const grant = args.grant_type ?? (args.code ? 'authorization_code' : '(none)');
    this.counters.tokenRequests[grant] = (this.counters.tokenRequests[grant] ?? 0) + 1;
    const fail = (error: string): Reply => {
      this.counters.tokenErrors[error] = (this.counters.tokenErrors[error] ?? 0) + 1;
      return json(200, { ok: false, error });
    };
    const basic = basicCredentials(ctx.req.headers.authorization);
    const clientId = basic?.id ?? args.client_id;
    const clientSecret = basic?.secret ?? args.client_secret;
    const app = this.apps.find((a) => a.clientId === clientId);
    if (!app) return fail('invalid_client_id');
    if (app.clientSecret !== clientSecret) return fail('bad_client_secret');

    if (grant === 'authorization_code') {
      const entry = this.codes.get(args.code ?? '');
      this.codes.delete(args.code ?? '');
      if (!entry || entry.appId !== app.appId || entry.expiresAt <= this.options.now())
        return fail('invalid_code');
      if (entry.redirectUri !== args.redirect_uri) return fail('bad_redirect_uri');
      const user = this.data.user(entry.userId);
      return json(200, this.install(app, user, entry.scopes, entry.userScopes));
    }
    if (grant === 'refresh_token') {
      const outcome = this.data.tokens.refreshWith(args.refresh_token ?? '', app.appId);
      if ('error' in outcome) return fail(outcome.error);
      if (outcome.reused) this.counters.refreshReuse++;
      return json(200, this.refreshBody(app, outcome.grant, outcome.pair));
    }
    return fail('invalid_grant_type');
  }

  /**
   * The code exchange's answer, in the documented key order. Without bot scopes there is no bot
   * token and the top-level token keys are left out (UNCONFIRMED: the docs show only the
   * bot-and-user shape); `authed_user` carries only `id` without user scopes.
   */
  private install(
    app: SlackApp,
    user: UserRec,
    scopes: string[],
    userScopes: string[],
  ): Record<string, unknown> {
    const team = this.data.workspace(user.teamId);
    const body: Record<string, unknown> = { ok: true };
    let botPair: IssuedPair | undefined;
    if (scopes.length) {
      const bot = this.data.botUser(app.appId, team.id);
      const grant = this.data.tokens.authorize(
        app.appId,
        team.id,
        'bot',
        bot.id,
        scopes,
        app.tokenRotation,
      );
      botPair = this.data.tokens.issue(grant);
      Object.assign(body, {
        access_token: botPair.accessToken,
        token_type: 'bot',
        scope: grant.scopes.join(','),
        bot_user_id: bot.id,
      });
    }
    Object.assign(body, { app_id: app.appId }, this.teamKeys(team.id));
    if (botPair) Object.assign(body, expiry(botPair));
    let authed: Record<string, unknown> = { id: user.id };
    if (userScopes.length) {
      const grant = this.data.tokens.authorize(
        app.appId,
        team.id,
        'user',
        user.id,
        userScopes,
        app.tokenRotation,
      );
      const pair = this.data.tokens.issue(grant);
      authed = {
        id: user.id,
        scope: grant.scopes.join(','),
        access_token: pair.accessToken,
        token_type: 'user',
        ...expiry(pair),
      };
    }
    body.authed_user = authed;
    return body;
  }

  /**
   * A refresh answers the new pair at the top level for bot and user tokens alike, the shape of
   * `OAuthV2TokenRefreshResponse` in Slack's own @slack/oauth package.
   */
  private refreshBody(app: SlackApp, grant: Grant, pair: IssuedPair): Record<string, unknown> {
    const body: Record<string, unknown> = {
      ok: true,
      app_id: app.appId,
      scope: grant.scopes.join(','),
      token_type: grant.kind,
      access_token: pair.accessToken,
    };
    if (grant.kind === 'bot') body.bot_user_id = grant.userId;
    else body.authed_user = { id: grant.userId };
    return { ...body, ...expiry(pair), ...this.teamKeys(grant.teamId) };
  }

  private teamKeys(teamId: string): Record<string, unknown> {
    const team = this.data.workspace(teamId);
    return {
      team: { name: team.name, id: team.id },
      enterprise: team.enterprise,
      is_enterprise_install: false,
    };
  }
}

function expiry(pair: IssuedPair): Record<string, unknown> {
  return pair.refreshToken ? { expires_in: pair.expiresIn, refresh_token: pair.refreshToken } : {};
}

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}
