import { type PushAttempt, SandboxServer } from '@pdeck/integration-sdk/sandbox';
import { mountApiRoutes, type ApiDeps } from './api-routes.js';
import { describeState, mountAdminRoutes } from './admin-routes.js';
import { IdFactory } from './ids.js';
import { providerOrigins } from './provider-origins.js';
import { RateLimiter, type RateLimitOptions, type TrelloLimitError } from './rate-limits.js';
import { seedTrello, type TrelloSeed } from './seed.js';
import {
  TrelloData,
  type ActionRec,
  type CardInput,
  type CardPatch,
  type CardRec,
  type ChangeOptions,
  type ListRec,
} from './trello-data.js';
import { TrelloOAuth, type AutoDecision, type TokenRec, type TrelloApp } from './trello-oauth.js';
import { WebhookRegistry, type WebhookDeliveryOptions } from './webhooks.js';

/** The sandbox app: API key (= OAuth consumer key) and secret (= OAuth and webhook secret). */
export const SANDBOX_TRELLO_APP: TrelloApp = {
  key: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
  secret: '0f9e8d7c6b5a49382716f5e4d3c2b1a00f9e8d7c6b5a49382716f5e4d3c2b1a0',
  name: 'PDeck Integrations (sandbox)',
};

export interface TrelloFakeOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  apps?: TrelloApp[];
  /** Seed alice, bob and the demo boards (default true); false leaves the two members only. */
  seed?: boolean;
  /** Seeded actions fall in the week before this date; due dates around it (default: now). */
  seedAnchor?: Date;
  /** Trello's windows (100 / token, 300 / key, 10 s); `false` turns limiting off. */
  rateLimits?: RateLimitOptions | false;
  /** Webhook retries (default 3 after the first try, 200 ms doubling) and probe timeout. */
  webhooks?: WebhookDeliveryOptions;
  now?: () => number;
}

/**
 * Offline Trello: OAuth 1.0a (trello.com) and REST API v1 (api.trello.com) on one loopback port,
 * with seeded members and boards, signed webhooks, rate-limit windows and admin controls.
 * Point PROVIDER_ORIGINS at it with `fake.origins()`.
 */
export class TrelloFake {
  readonly server: SandboxServer;
  readonly data: TrelloData;
  readonly oauth: TrelloOAuth;
  readonly webhooks: WebhookRegistry;
  readonly limiter: RateLimiter;
  readonly apps: TrelloApp[];
  /** Ids of the seeded members, boards, lists, labels and cards (absent with `seed: false`). */
  readonly seed?: TrelloSeed;
  private readonly counts: ApiDeps['counts'] = { byRoute: {}, queryCredentials: 0 };

  constructor(options: TrelloFakeOptions = {}) {
    const now = options.now ?? Date.now;
    this.apps = options.apps ?? [SANDBOX_TRELLO_APP];
    this.server = new SandboxServer({ port: options.port, host: options.host });
    this.data = new TrelloData(new IdFactory(now));
    if (options.seed !== false) {
      this.seed = seedTrello(this.data, options.seedAnchor ?? new Date(now()));
    } else {
      this.data.addMember('alice', 'Alice Example');
      this.data.addMember('bob', 'Bob Builder');
    }
    this.oauth = new TrelloOAuth(this.server, this.data, this.apps, now);
    this.webhooks = new WebhookRegistry(
      this.data.ids,
      (token) => {
        const rec = this.oauth.active(token);
        const app = rec && this.apps.find((a) => a.key === rec.key);
        return rec && app ? { rec, app } : undefined;
      },
      options.webhooks,
    );
    this.limiter = new RateLimiter(options.rateLimits, now);
    // Wired after seeding: seed actions predate every webhook.
    this.data.onAction = (board, action) => this.webhooks.deliver(board, action);
    this.oauth.onRevoke = (rec) => this.webhooks.deleteForToken(rec.token);
    mountApiRoutes(this.server, {
      data: this.data,
      oauth: this.oauth,
      limiter: this.limiter,
      webhooks: this.webhooks,
      counts: this.counts,
    });
    mountAdminRoutes(this.server, this);
    this.server.addStats('trello', () => this.trelloStats());
  }

  get url(): string {
    return this.server.url;
  }

  start(): Promise<string> {
    return this.server.start();
  }

  async stop(): Promise<void> {
    await this.webhooks.pushes.idle();
    await this.server.stop();
  }

  /** PROVIDER_ORIGINS for the service: https://trello.com and https://api.trello.com -> here. */
  origins(): Record<string, string> {
    return providerOrigins(this.url);
  }

  /** An API token for `member` (username or id) without the OAuth dance. Default scope read, never expires. */
  issueToken(
    member: string,
    opts: { scope?: string; expiration?: string; key?: string } = {},
  ): TokenRec {
    return this.oauth.issueToken(member, opts);
  }

  /** App secrets and every token, token secret and verifier issued (see TrelloOAuth.issuedSecrets). */
  issuedSecrets(): string[] {
    return this.oauth.issuedSecrets();
  }

  /** The member revokes the token in Trello: further calls answer 401 `invalid token`, its webhooks go. */
  revokeToken(token: string): boolean {
    return this.oauth.revoke(token);
  }

  /** Make unmodified OAuthAuthorizeToken URLs redirect at once (undefined: show the page again). */
  setAutoDecision(auto: AutoDecision | undefined): void {
    this.oauth.setAutoDecision(auto);
  }

  createCard(boardId: string, input: CardInput, opts?: ChangeOptions): CardRec {
    return this.data.createCard(boardId, input, opts);
  }

  updateCard(cardId: string, patch: CardPatch, opts?: ChangeOptions): CardRec {
    return this.data.updateCard(cardId, patch, opts);
  }

  /** closed: true, recorded as an updateCard action with `old.closed: false`. */
  archiveCard(cardId: string, opts?: ChangeOptions): CardRec {
    return this.data.updateCard(cardId, { closed: true }, opts);
  }

  deleteCard(cardId: string, opts?: ChangeOptions): ActionRec {
    return this.data.deleteCard(cardId, opts);
  }

  renameList(listId: string, name: string, opts?: ChangeOptions): ListRec {
    return this.data.renameList(listId, name, opts);
  }

  /** The board's actions, newest first (what GET /1/boards/{id}/actions returns unfiltered). */
  actions(boardId: string): ActionRec[] {
    return [...(this.data.actions.get(boardId) ?? [])].reverse();
  }

  /** The next `count` authenticated API calls answer 429 with this error code. */
  rateLimitNext(count = 1, error: TrelloLimitError = 'API_TOKEN_LIMIT_EXCEEDED'): void {
    this.limiter.forceNext(count, error);
  }

  /** Resolves when no webhook delivery (including retries) is in flight. */
  whenIdle(): Promise<void> {
    return this.webhooks.pushes.idle();
  }

  /** Every delivery attempt (url, status, attempt number, headers), oldest first. */
  deliveries(limit = 100): PushAttempt[] {
    return this.webhooks.pushes.log(limit);
  }

  stats(): Record<string, unknown> {
    return this.server.stats();
  }

  state(): Record<string, unknown> {
    return describeState(this);
  }

  private trelloStats(): Record<string, unknown> {
    const { lastAuthorizeQuery, ...oauth } = this.oauth.counters;
    return {
      oauth: { ...oauth, lastAuthorizeQuery: lastAuthorizeQuery ?? null },
      apiCalls: { ...this.counts.byRoute },
      queryCredentials: this.counts.queryCredentials,
      webhooks: this.webhooks.stats(),
      rateLimits: this.limiter.stats(),
    };
  }
}
