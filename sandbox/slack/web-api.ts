import {
  json,
  type Reply,
  type RequestContext,
  type SandboxServer,
} from '@pdeck/integration-sdk/sandbox';
import { callArgs, flag, missingScope } from './api-args.js';
import { history, listConversations, replies } from './conversations-api.js';
import { pageById, pageLimit } from './cursors.js';
import type { SlackRateLimiter } from './rate-limits.js';
import type { SlackData } from './slack-data.js';
import type { AccessRec, Grant } from './tokens.js';
import { userView } from './views.js';

type Body = Record<string, unknown>;

interface Call {
  args: Record<string, string>;
  token: AccessRec;
  grant: Grant;
}

/**
 * The Web API methods under `/api/<method>` (GET query or POST form/JSON), token from
 * `Authorization: Bearer`. Every answer is HTTP 200 `{ok, ...}` with the token's scopes in
 * `x-oauth-scopes` (https://docs.slack.dev/authentication/installing-with-oauth), except a
 * rate-limited call: 429 with `Retry-After` and `{ok:false, error:"ratelimited"}`
 * (https://docs.slack.dev/apis/web-api/rate-limits).
 */
export class SlackWebApi {
  readonly counters = {
    calls: {} as Record<string, number>,
    /** auth.revoke calls that revoked something, and the tokens they revoked. */
    revocations: 0,
    revokedTokens: [] as string[],
  };

  constructor(
    private readonly server: SandboxServer,
    private readonly data: SlackData,
    private readonly limiter: SlackRateLimiter,
    private readonly now: () => number,
  ) {
    const pageSize = () => limiter.historyPageSize();
    this.method('auth.test', (c) => this.authTest(c));
    this.method('auth.revoke', (c) => this.authRevoke(c));
    this.method('conversations.list', (c) => listConversations(data, c.grant, c.args));
    this.method('conversations.history', (c) => history(data, c.grant, c.args, pageSize()));
    this.method('conversations.replies', (c) => replies(data, c.grant, c.args, pageSize()));
    this.method('users.list', (c) => this.usersList(c));
    this.method('users.info', (c) => this.usersInfo(c));
  }

  private method(name: string, handler: (call: Call) => Body): void {
    for (const verb of ['GET', 'POST'])
      this.server.route(verb, `/api/${name}`, (ctx) => this.call(name, ctx, handler));
  }

  private call(name: string, ctx: RequestContext, handler: (call: Call) => Body): Reply {
    this.counters.calls[name] = (this.counters.calls[name] ?? 0) + 1;
    const auth = this.authenticate(ctx.req.headers.authorization);
    if ('error' in auth) return json(200, { ok: false, error: auth.error });
    const grant = auth.token.grant;
    const headers = { 'x-oauth-scopes': grant.scopes.join(',') };
    const retryAfter = this.limiter.check(grant.appId, grant.teamId, name);
    if (retryAfter !== undefined)
      return json(
        429,
        { ok: false, error: 'ratelimited' },
        { ...headers, 'retry-after': String(retryAfter) },
      );
    return json(200, handler({ args: callArgs(ctx), token: auth.token, grant }), headers);
  }

  /** Token errors in Slack's order of precedence: revoked before expired. */
  private authenticate(header: string | undefined): { token: AccessRec } | { error: string } {
    const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    if (!m) return { error: 'not_authed' };
    const token = this.data.tokens.lookup(m[1]);
    if (!token) return { error: 'invalid_auth' };
    if (token.revoked || token.grant.revoked) return { error: 'token_revoked' };
    if (token.expiresAt !== null && token.expiresAt <= this.now())
      return { error: 'token_expired' };
    if (token.grant.kind === 'user' && this.data.user(token.grant.userId).deleted)
      return { error: 'account_inactive' };
    return { token };
  }

  /** https://docs.slack.dev/reference/methods/auth.test */
  private authTest({ grant }: Call): Body {
    const team = this.data.workspace(grant.teamId);
    const user = this.data.user(grant.userId);
    return {
      ok: true,
      url: `https://${team.domain}.slack.com/`,
      team: team.name,
      user: user.name,
      team_id: team.id,
      user_id: user.id,
      ...(grant.kind === 'bot' ? { bot_id: user.botId } : {}),
      ...(team.enterprise ? { enterprise_id: team.enterprise.id } : {}),
      is_enterprise_install: false,
    };
  }

  /**
   * https://docs.slack.dev/reference/methods/auth.revoke: with token rotation only this token
   * dies; without it the whole authorization of that principal does
   * (https://docs.slack.dev/authentication/using-token-rotation). `test=1` simulates: the same
   * answer, nothing revoked (UNCONFIRMED: the docs only say the token is not revoked).
   */
  private authRevoke({ args, token, grant }: Call): Body {
    if (flag(args.test)) return { ok: true, revoked: true };
    const revoked = grant.rotation
      ? this.data.tokens.revokeAccess(token.token)
      : this.data.tokens.revokeGrant(grant);
    this.counters.revocations++;
    this.counters.revokedTokens.push(...revoked);
    return { ok: true, revoked: true };
  }

  /**
   * https://docs.slack.dev/reference/methods/users.list: every member of the workspace, bots and
   * deactivated users included; `limit` 0 (the default) answers everyone in one page.
   */
  private usersList({ args, grant }: Call): Body {
    if (!grant.scopes.includes('users:read')) return missingScope('users:read', grant.scopes);
    const all = this.data.users.filter((u) => u.teamId === grant.teamId);
    const page = pageById(all, 'user', args.cursor, pageLimit(args.limit, all.length, 1000));
    if ('error' in page) return { ok: false, error: page.error };
    return {
      ok: true,
      members: page.items.map(userView),
      cache_ts: Math.floor(this.now() / 1000),
      response_metadata: { next_cursor: page.nextCursor },
    };
  }

  /** https://docs.slack.dev/reference/methods/users.info: one member of the token's workspace. */
  private usersInfo({ args, grant }: Call): Body {
    if (!grant.scopes.includes('users:read')) return missingScope('users:read', grant.scopes);
    const user = this.data.users.find((u) => u.teamId === grant.teamId && u.id === args.user);
    return user ? { ok: true, user: userView(user) } : { ok: false, error: 'user_not_found' };
  }
}
