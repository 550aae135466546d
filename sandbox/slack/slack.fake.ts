import { SandboxNotFoundError, SandboxServer } from '@pdeck/integration-sdk/sandbox';
import { mountSlackAdmin } from './admin-routes.js';
import { SlackEvents, type EventAuthorization } from './events.js';
import { providerOrigins } from './provider-origins.js';
import { SlackRateLimiter, type HistoryTier } from './rate-limits.js';
import { SEED_SLACK, seedSlack } from './seed.js';
import { SlackData, type ConversationRec, type MessageRec, type UserRec } from './slack-data.js';
import { SANDBOX_SLACK_APP, SlackOAuth, type SlackApp } from './slack-oauth.js';
import { channelType, messageView } from './views.js';
import { SlackWebApi } from './web-api.js';

export interface SlackFakeOptions {
  port?: number;
  host?: string;
  /** Default: the sandbox app (token rotation on). The first app owns the seeded bot user. */
  apps?: SlackApp[];
  /** Seed the PDeck Sandbox workspace (default true). */
  seed?: boolean;
  /** Seeded messages fall in the days before this instant (default: now). */
  seedAnchor?: Date;
  /** conversations.history/replies limits (default `limited`: 1 per minute, 15 per page). */
  historyTier?: HistoryTier;
  /** Lifetime of rotating access tokens, default 43 200 s. */
  accessTokenTtlSec?: number;
  /** A used refresh token answers the same pair again for this long, default 60 s. */
  refreshGraceSec?: number;
  /** Events: a 2xx must come within this long, default 3000 ms. */
  ackTimeoutMs?: number;
  /** Events: delay before each retry, default [1000, 60000, 300000]. */
  retryDelaysMs?: number[];
  now?: () => number;
}

/** Bot scopes a message-sync integration asks for. */
export const DEFAULT_BOT_SCOPES = [
  'channels:read',
  'channels:history',
  'groups:read',
  'groups:history',
  'im:read',
  'im:history',
  'mpim:read',
  'mpim:history',
  'users:read',
];
/** User-token scopes: the same reads, as the installing user. */
export const DEFAULT_USER_SCOPES = [...DEFAULT_BOT_SCOPES];

/**
 * Offline Slack on one loopback port: OAuth v2 with token rotation, the Web API methods a
 * message sync needs (auth.test, auth.revoke, conversations.list/history/replies, users.list)
 * with per-minute rate limits, and an Events API sender (url_verification, signed
 * event_callback deliveries with retries). The data-changing methods below emit events to every
 * installed app with a request URL. Admin routes: see `admin-routes.ts`.
 */
export class SlackFake {
  readonly server: SandboxServer;
  readonly data: SlackData;
  readonly oauth: SlackOAuth;
  readonly api: SlackWebApi;
  readonly limiter: SlackRateLimiter;
  readonly events: SlackEvents;
  readonly apps: SlackApp[];
  readonly seed = SEED_SLACK;

  constructor(options: SlackFakeOptions = {}) {
    const now = options.now ?? Date.now;
    this.apps = options.apps ?? [SANDBOX_SLACK_APP];
    this.server = new SandboxServer({
      port: options.port,
      host: options.host,
      // UNCONFIRMED: the HTTP status of an unknown method; the body is Slack's.
      notFoundBody: (path) => ({
        ok: false,
        error: path.startsWith('/api/') ? 'unknown_method' : 'not_found',
      }),
    });
    this.data = new SlackData(now, {
      accessTokenTtlSec: options.accessTokenTtlSec ?? 43_200,
      refreshGraceSec: options.refreshGraceSec ?? 60,
    });
    const seeded = options.seed !== false;
    if (seeded) seedSlack(this.data, options.seedAnchor?.getTime() ?? now(), this.apps[0].appId);
    this.oauth = new SlackOAuth(this.server, this.data, this.apps, {
      accounts: seeded ? SEED_SLACK.consentingAccounts : [],
      now,
    });
    this.limiter = new SlackRateLimiter(options.historyTier ?? 'limited', now);
    this.api = new SlackWebApi(this.server, this.data, this.limiter, now);
    this.events = new SlackEvents(this.apps, now, {
      ackTimeoutMs: options.ackTimeoutMs,
      retryDelaysMs: options.retryDelaysMs,
    });
    mountSlackAdmin(this.server, this);
    this.server.addStats('slack', () => ({
      oauth: this.oauth.counters,
      api: this.api.counters,
      rateLimits: this.limiter.stats(),
      events: this.events.stats(),
    }));
  }

  get url(): string {
    return this.server.url;
  }

  start(): Promise<string> {
    return this.server.start();
  }

  /** Cancels scheduled event retries, waits for requests in flight, stops the server. */
  async stop(): Promise<void> {
    this.events.close();
    await this.events.whenIdle();
    await this.server.stop();
  }

  /** PROVIDER_ORIGINS: https://slack.com -> here. */
  origins(): Record<string, string> {
    return providerOrigins(this.url);
  }

  /** OAuth and Web API counters: authorizations, token requests and errors, refreshReuse, calls, revocations, revokedTokens. */
  get counters(): SlackOAuth['counters'] & SlackWebApi['counters'] {
    return { ...this.oauth.counters, ...this.api.counters };
  }

  stats(): Record<string, unknown> {
    return this.server.stats();
  }

  /** Installs without the browser; answers what oauth.v2.access would. */
  issueTokens(
    account: string,
    scopes: { scopes?: string[]; userScopes?: string[] } = {
      scopes: DEFAULT_BOT_SCOPES,
      userScopes: DEFAULT_USER_SCOPES,
    },
    appId?: string,
  ): Record<string, unknown> {
    return this.oauth.issueTokens(account, scopes, appId);
  }

  /** Every access and refresh token ever issued, and every app's client and signing secret. */
  issuedSecrets(): string[] {
    return [
      ...this.apps.flatMap((a) => [a.clientSecret, a.signingSecret]),
      ...this.data.tokens.issuedTokens(),
    ];
  }

  /** Verifies `url` with url_verification and saves it as the app's request URL when it answers. */
  setRequestUrl(url: string, appId?: string): Promise<{ ok: boolean; status: number }> {
    return this.events.setRequestUrl(url, appId);
  }

  /** The next call of `method` answers 429 with `Retry-After: retryAfterSec`. */
  forceRateLimit(method: string, retryAfterSec = 30): void {
    this.limiter.force(method, retryAfterSec);
  }

  whenIdle(): Promise<void> {
    return this.events.whenIdle();
  }

  /** A new message (a thread reply with `threadTs`); emits `message`. */
  postMessage(
    channel: string,
    input: { user: string; text: string; threadTs?: string },
  ): MessageRec {
    const conv = this.conversation(channel);
    const user = this.data.user(input.user).id;
    const m = this.data.post(channel, { user, text: input.text, threadTs: input.threadTs });
    this.emit(conv, {
      type: 'message',
      channel,
      user,
      text: m.text,
      ts: m.ts,
      event_ts: m.ts,
      channel_type: channelType(conv.kind),
      ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
    });
    return m;
  }

  /** New text, `edited` set; emits `message_changed` with the new and the previous version. */
  editMessage(channel: string, ts: string, text: string): MessageRec {
    const conv = this.conversation(channel);
    const { message, previous } = this.data.edit(channel, ts, text);
    const eventTs = message.edited!.ts;
    this.emit(conv, {
      type: 'message',
      subtype: 'message_changed',
      hidden: true,
      channel,
      ts: eventTs,
      event_ts: eventTs,
      message: messageView(this.data, message),
      previous_message: messageView(this.data, previous),
      channel_type: channelType(conv.kind),
    });
    return message;
  }

  /** Removes the message (gone from history and replies); emits `message_deleted`. */
  deleteMessage(channel: string, ts: string): MessageRec {
    const conv = this.conversation(channel);
    const removed = this.data.remove(channel, ts);
    const eventTs = this.data.nextTs(channel);
    this.emit(conv, {
      type: 'message',
      subtype: 'message_deleted',
      hidden: true,
      channel,
      ts: eventTs,
      event_ts: eventTs,
      deleted_ts: ts,
      previous_message: messageView(this.data, removed),
      channel_type: channelType(conv.kind),
    });
    return removed;
  }

  /** Adds `user`'s reaction (throws `already_reacted`); emits `reaction_added`. */
  addReaction(channel: string, ts: string, name: string, user: string): MessageRec {
    return this.react(channel, ts, name, user, true);
  }

  /** Removes `user`'s reaction (throws `no_reaction`); emits `reaction_removed`. */
  removeReaction(channel: string, ts: string, name: string, user: string): MessageRec {
    return this.react(channel, ts, name, user, false);
  }

  /**
   * Revokes the app's tokens of these users (`userIds`) and of its bot (`botIds`: bot user ids
   * or `B...` bot ids) in `team`; emits `tokens_revoked` listing the ids that had tokens.
   */
  revokeTokens(
    team: string,
    who: { userIds?: string[]; botIds?: string[] },
    appId = this.apps[0].appId,
  ): { oauth: string[]; bot: string[] } {
    const app = this.app(appId);
    const bots = (who.botIds ?? []).map(
      (id) => this.data.users.find((u) => u.isBot && (u.id === id || u.botId === id))?.id ?? id,
    );
    const hit = this.data.tokens
      .liveGrants(app.appId, team)
      .filter((g) =>
        g.kind === 'user' ? (who.userIds ?? []).includes(g.userId) : bots.includes(g.userId),
      );
    const tokens = {
      oauth: hit.filter((g) => g.kind === 'user').map((g) => g.userId),
      bot: hit.filter((g) => g.kind === 'bot').map((g) => g.userId),
    };
    if (!hit.length) return tokens;
    this.emitTo(app, team, { type: 'tokens_revoked', tokens, event_ts: this.data.nextTs('') });
    for (const g of hit) this.data.tokens.revokeGrant(g);
    return tokens;
  }

  /** Uninstalls the app from `team`: emits `app_uninstalled`, then revokes every token; answers them. */
  uninstall(team: string, appId = this.apps[0].appId): string[] {
    const app = this.app(appId);
    const grants = this.data.tokens.liveGrants(app.appId, team);
    this.emitTo(app, team, { type: 'app_uninstalled', event_ts: this.data.nextTs('') });
    return grants.flatMap((g) => this.data.tokens.revokeGrant(g));
  }

  /** Deactivates a user: their user tokens answer `account_inactive`. */
  deactivate(userId: string): UserRec {
    return this.data.deactivate(userId);
  }

  state(): Record<string, unknown> {
    return {
      workspaces: this.data.workspaces,
      users: this.data.users,
      conversations: this.data.conversations.map((c) => ({
        ...c,
        messages: this.data.messages(c.id, { includeReplies: true }).length,
      })),
      installations: this.data.tokens
        .allGrants()
        .filter((g) => !g.revoked)
        .map((g) => ({
          appId: g.appId,
          teamId: g.teamId,
          kind: g.kind,
          userId: g.userId,
          scopes: g.scopes,
          liveTokens: this.data.tokens.liveTokens(g).length,
        })),
      requestUrls: Object.fromEntries(
        this.apps.map((a) => [a.appId, this.events.requestUrl(a.appId) ?? null]),
      ),
    };
  }

  private react(channel: string, ts: string, name: string, user: string, add: boolean): MessageRec {
    const conv = this.conversation(channel);
    const userId = this.data.user(user).id;
    if (!this.data.react(channel, ts, name, userId, add))
      throw new Error(add ? 'already_reacted' : 'no_reaction');
    const message = this.data.message(channel, ts)!;
    this.emit(conv, {
      type: add ? 'reaction_added' : 'reaction_removed',
      user: userId,
      reaction: name,
      item: { type: 'message', channel, ts },
      ...(message.user ? { item_user: message.user } : {}),
      event_ts: this.data.nextTs(channel),
    });
    return message;
  }

  private conversation(id: string): ConversationRec {
    const conv = this.data.conversation(id);
    if (!conv) throw new SandboxNotFoundError(`unknown conversation ${id}`);
    return conv;
  }

  private app(appId: string): SlackApp {
    const app = this.apps.find((a) => a.appId === appId);
    if (!app) throw new SandboxNotFoundError(`unknown app ${appId}`);
    return app;
  }

  private emit(conv: ConversationRec, event: Record<string, unknown>): void {
    for (const app of this.apps) this.emitTo(app, conv.teamId, event, conv);
  }

  /**
   * Sends to the app when it is installed in the workspace. `authorizations` names one principal
   * that can see the event: the bot when it is in the conversation, else an installing user who
   * is, else the bot. UNCONFIRMED: Slack sends conversation events only to installations that
   * can see them; the fake sends every event of an installed workspace, so a receiver's own
   * filtering is exercised too.
   */
  private emitTo(
    app: SlackApp,
    teamId: string,
    event: Record<string, unknown>,
    conv?: ConversationRec,
  ): void {
    const grants = this.data.tokens.liveGrants(app.appId, teamId);
    const sees = (userId: string) => !conv || conv.members.includes(userId);
    const pick =
      grants.find((g) => g.kind === 'bot' && sees(g.userId)) ??
      grants.find((g) => g.kind === 'user' && sees(g.userId)) ??
      grants.find((g) => g.kind === 'bot') ??
      grants[0];
    if (!pick) return;
    const auth: EventAuthorization = { teamId, userId: pick.userId, isBot: pick.kind === 'bot' };
    this.events.emit(app, event, auth, conv?.id);
  }
}
