import {
  OAuth2Fake,
  SandboxServer,
  json,
  type OAuthClient,
  type Reply,
  type RequestContext,
  type AccessTokenInfo,
} from '@pdeck/integration-sdk/sandbox';
import { DeltaFeed } from './delta.js';
import { graphError, identityPlatformError } from './graph-errors.js';
import type { EventInput, FakeEvent, Mailbox } from './mailbox.js';
import { seedAlice, seedBob } from './seed.js';
import { SubscriptionsFake, type LifecycleEvent } from './subscriptions.js';

/** The real origins the fake stands in for (PROVIDER_ORIGINS maps both to its one port). */
export const MICROSOFT_ORIGINS = [
  'https://login.microsoftonline.com',
  'https://graph.microsoft.com',
] as const;
const GRAPH_ORIGIN = 'https://graph.microsoft.com';
const LOGIN = '/common/oauth2/v2.0';

export const SANDBOX_OUTLOOK_CLIENT: OAuthClient = {
  clientId: '6731de76-14a6-49ae-97bc-6eba6914391e',
  clientSecret: 'sbx~Outlook.Sandbox-Secret_0123456789',
  name: 'PDeck Integrations (sandbox)',
};

export interface OutlookFakeOptions {
  port?: number;
  /** Accept http://127.0.0.1 notification URLs (tests, the local sandbox). Off: https only, as Graph. */
  allowHttpLoopback?: boolean;
  accessTokenTtlSec?: number;
  now?: () => number;
}

/**
 * Microsoft identity platform + Graph v1.0 (calendar part) over real HTTP, on the SDK sandbox base:
 *
 * - `GET /common/oauth2/v2.0/authorize` and `POST .../token`: auth code with PKCE (S256 checked at
 *   the token endpoint), rotating refresh tokens (the old one is dropped: stricter than Microsoft,
 *   where it stays valid but must be discarded), errors as `{error, error_description: "AADSTS...",
 *   error_codes, timestamp, trace_id, correlation_id}`. A refresh token only with `offline_access`.
 *   There is no revocation endpoint (Microsoft documents none); the base's revoke route is moved
 *   to a sandbox-only path nobody calls.
 * - `GET /v1.0/me`, `/v1.0/me/calendars`, `/v1.0/me/calendarView/delta` (DeltaFeed).
 * - `POST/PATCH/DELETE /v1.0/subscriptions[/id]`, `POST /v1.0/subscriptions/{id}/reauthorize`,
 *   change and lifecycle notifications (SubscriptionsFake).
 * - Admin under /__admin: events (create, change, delete), delta token expiry, subscriptions and
 *   lifecycle notifications, faults (the base's /__admin/faults).
 */
export class OutlookFake {
  readonly server: SandboxServer;
  readonly oauth: OAuth2Fake;
  readonly delta: DeltaFeed;
  readonly subscriptions: SubscriptionsFake;
  readonly mailboxes = new Map<string, Mailbox>();
  readonly clients = [SANDBOX_OUTLOOK_CLIENT];
  private readonly now: () => number;

  constructor(private readonly options: OutlookFakeOptions = {}) {
    this.now = options.now ?? Date.now;
    this.server = new SandboxServer({
      port: options.port,
      notFoundBody: (path) => ({
        error: {
          code: 'BadRequest',
          message: `Resource not found for the segment '${path.split('/').pop()}'.`,
        },
      }),
    });
    for (const mailbox of [seedAlice(this.now), seedBob(this.now)])
      this.mailboxes.set(mailbox.email, mailbox);
    this.oauth = new OAuth2Fake(this.server, {
      clients: this.clients,
      accounts: [...this.mailboxes.values()].map((m) => ({
        email: m.email,
        name: m.user.displayName,
      })),
      paths: {
        authorize: `${LOGIN}/authorize`,
        token: `${LOGIN}/token`,
        revoke: '/__sandbox/no-revocation',
      },
      accessTokenTtlSec: options.accessTokenTtlSec ?? 3599,
      rotateRefreshTokens: true,
      refreshTokenPolicy: 'always',
      providerName: 'Microsoft',
      now: this.now,
      tokenReply: microsoftTokenReply,
    });
    this.delta = new DeltaFeed(() => GRAPH_ORIGIN);
    this.subscriptions = new SubscriptionsFake({
      allowHttpLoopback: options.allowHttpLoopback ?? false,
      now: this.now,
    });
    this.mountGraph();
    this.mountAdmin();
  }

  get url(): string {
    return this.server.url;
  }

  async start(): Promise<string> {
    return this.server.start();
  }

  async stop(): Promise<void> {
    await this.subscriptions.push.idle();
    await this.server.stop();
  }

  /** PROVIDER_ORIGINS for the service: both Microsoft origins to this fake. */
  origins(): Record<string, string> {
    return Object.fromEntries(MICROSOFT_ORIGINS.map((o) => [o, new URL(this.url).origin]));
  }

  /** A Graph link (`https://graph.microsoft.com/...`) as a URL of this fake. */
  local(link: string): string {
    return link.startsWith(GRAPH_ORIGIN)
      ? `${new URL(this.url).origin}${link.slice(GRAPH_ORIGIN.length)}`
      : link;
  }

  mailbox(email: string): Mailbox {
    const mailbox = this.mailboxes.get(email);
    if (!mailbox) throw new Error(`no mailbox ${email}`);
    return mailbox;
  }

  createEvent(email: string, input: EventInput): FakeEvent {
    const event = this.mailbox(email).create(input);
    this.subscriptions.notify(this.mailbox(email), event.id, 'created');
    return event;
  }

  updateEvent(email: string, id: string, input: EventInput): FakeEvent {
    const event = this.mailbox(email).update(id, input);
    this.subscriptions.notify(this.mailbox(email), id, 'updated');
    return event;
  }

  deleteEvent(email: string, id: string): void {
    this.mailbox(email).delete(id);
    this.subscriptions.notify(this.mailbox(email), id, 'deleted');
  }

  /** Every delta link of the mailbox answers 410 SyncStateNotFound from now on. */
  expireDeltaTokens(email: string): void {
    this.delta.expire(this.mailbox(email));
  }

  sendLifecycle(subscriptionId: string, event: LifecycleEvent): boolean {
    return this.subscriptions.lifecycle(subscriptionId, event);
  }

  /** Resolves when no notification is in flight (retries included). */
  whenIdle(): Promise<void> {
    return this.subscriptions.push.idle();
  }

  /** The mailbox of the bearer token, or Graph's 401/403. */
  private authorize(ctx: RequestContext, scope: string): Mailbox | Reply {
    const header = ctx.req.headers.authorization;
    if (!header) return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    const info: AccessTokenInfo | undefined = this.oauth.authenticate(header);
    if (!info)
      return graphError(
        401,
        'InvalidAuthenticationToken',
        'Lifetime validation failed, the token is expired.',
      );
    const granted = info.scopes.map((s) =>
      s.replace(/^https:\/\/graph\.microsoft\.com\//i, '').toLowerCase(),
    );
    if (!granted.includes(scope.toLowerCase()))
      return graphError(
        403,
        'ErrorAccessDenied',
        'Access is denied. Check credentials and try again.',
      );
    return this.mailbox(info.account);
  }

  private graph(
    method: string,
    path: string,
    scope: string,
    handler: (m: Mailbox, ctx: RequestContext) => Reply | Promise<Reply>,
  ): void {
    this.server.route(method, `/v1.0${path}`, async (ctx) => {
      const mailbox = this.authorize(ctx, scope);
      return 'status' in mailbox ? mailbox : handler(mailbox, ctx);
    });
  }

  private mountGraph(): void {
    this.graph('GET', '/me', 'User.Read', (m) =>
      json(200, {
        '@odata.context': `${GRAPH_ORIGIN}/v1.0/$metadata#users/$entity`,
        businessPhones: [],
        givenName: m.user.displayName.split(' ')[0],
        surname: m.user.displayName.split(' ')[1] ?? null,
        jobTitle: null,
        mobilePhone: null,
        officeLocation: null,
        preferredLanguage: 'en-US',
        ...m.user,
      }),
    );
    this.graph('GET', '/me/calendars', 'Calendars.Read', (m, ctx) => {
      const top = Math.max(1, Number(ctx.query.get('$top') ?? 10) || 10);
      const skip = Math.max(0, Number(ctx.query.get('$skip') ?? 0) || 0);
      const value = m.calendars.slice(skip, skip + top).map((c) => ({
        id: c.id,
        name: c.name,
        color: 'auto',
        hexColor: '',
        isDefaultCalendar: c.isDefaultCalendar,
        changeKey: 'nfZyf7VcrEKLNoU37KWlkQAAA0x0+w==',
        canShare: c.canEdit,
        canViewPrivateItems: true,
        canEdit: c.canEdit,
        allowedOnlineMeetingProviders: ['teamsForBusiness'],
        defaultOnlineMeetingProvider: 'teamsForBusiness',
        isTallyingResponses: true,
        isRemovable: !c.isDefaultCalendar,
        owner: { name: m.user.displayName, address: m.user.mail ?? m.user.userPrincipalName },
      }));
      const body: Record<string, unknown> = {
        '@odata.context': `${GRAPH_ORIGIN}/v1.0/$metadata#me/calendars`,
        value,
      };
      if (skip + top < m.calendars.length)
        body['@odata.nextLink'] =
          `${GRAPH_ORIGIN}/v1.0/me/calendars?$top=${top}&$skip=${skip + top}`;
      return json(200, body);
    });
    this.graph('GET', '/me/calendarView/delta', 'Calendars.Read', (m, ctx) =>
      this.delta.handle(m, ctx),
    );
    // The per-calendar form (documented on beta): the default calendar's events; another calendar
    // of the mailbox has none here; an unknown id is 404.
    this.graph('GET', '/me/calendars/:id/calendarView/delta', 'Calendars.Read', (m, ctx) => {
      const calendar = m.calendars.find((c) => c.id === ctx.params.id);
      if (!calendar)
        return graphError(
          404,
          'ErrorItemNotFound',
          'The specified object was not found in the store.',
        );
      return this.delta.handle(m, ctx, !calendar.isDefaultCalendar);
    });
    // Subscriptions on events need Calendars.Read (the least privileged permission).
    this.graph('POST', '/subscriptions', 'Calendars.Read', (m, ctx) =>
      this.subscriptions.create(m, this.clients[0].clientId, ctx),
    );
    this.graph('PATCH', '/subscriptions/:id', 'Calendars.Read', (m, ctx) =>
      this.subscriptions.renew(m, ctx.params.id, ctx),
    );
    this.graph('DELETE', '/subscriptions/:id', 'Calendars.Read', (m, ctx) =>
      this.subscriptions.delete(m, ctx.params.id),
    );
    this.graph('POST', '/subscriptions/:id/reauthorize', 'Calendars.Read', (m, ctx) =>
      this.subscriptions.reauthorize(m, ctx.params.id),
    );
  }

  private mountAdmin(): void {
    const s = this.server;
    const input = (ctx: RequestContext) => (ctx.body ?? {}) as EventInput & { account?: string };
    const account = (ctx: RequestContext) => input(ctx).account ?? ctx.query.get('account') ?? '';
    s.admin('POST', '/events', (ctx) => json(201, this.createEvent(account(ctx), input(ctx))));
    s.admin('PATCH', '/events/:id', (ctx) =>
      json(200, this.updateEvent(account(ctx), ctx.params.id, input(ctx))),
    );
    s.admin('DELETE', '/events/:id', (ctx) => {
      this.deleteEvent(account(ctx), ctx.params.id);
      return { status: 204 };
    });
    s.admin('POST', '/delta/expire', (ctx) => {
      this.expireDeltaTokens(account(ctx));
      return json(200, { expired: true });
    });
    s.admin('GET', '/subscriptions', () =>
      json(200, {
        value: this.subscriptions
          .active()
          .map((sub) => ({ ...this.subscriptions.view(sub), renewals: sub.renewals })),
      }),
    );
    s.admin('POST', '/subscriptions/:id/lifecycle', (ctx) => {
      const event = (ctx.body as { lifecycleEvent?: LifecycleEvent } | undefined)?.lifecycleEvent;
      if (
        event !== 'reauthorizationRequired' &&
        event !== 'subscriptionRemoved' &&
        event !== 'missed'
      ) {
        return json(400, {
          error: 'lifecycleEvent must be reauthorizationRequired, subscriptionRemoved or missed',
        });
      }
      return this.sendLifecycle(ctx.params.id, event)
        ? json(202, { sent: true })
        : json(404, { error: 'no such subscription' });
    });
    s.addStats('graph', () => ({
      delta: { ...this.delta.counts },
      subscriptions: this.subscriptions.active().length,
      push: this.subscriptions.push.stats(),
    }));
  }
}

/**
 * The identity platform's token answers: its error fields (`error_codes`, `trace_id`, ...), a
 * refresh token only when `offline_access` was granted, and `ext_expires_in` beside `expires_in`.
 */
function microsoftTokenReply(reply: Reply): Reply {
  const shaped = identityPlatformError(reply);
  const body = shaped.body as Record<string, unknown> | undefined;
  if (shaped.status === 200 && body) {
    const scopes = String(body.scope ?? '').split(' ');
    if (!scopes.includes('offline_access')) delete body.refresh_token;
    body.ext_expires_in = body.expires_in;
  }
  return shaped;
}
