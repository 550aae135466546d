import {
  SandboxNotFoundError,
  type FaultSpec,
  OAuth2Fake,
  type OAuthClient,
  PageCache,
  PushSender,
  type PushSenderOptions,
  SandboxServer,
} from '@pdeck/integration-sdk/sandbox';
import { describeState, mountAdminRoutes } from './admin-routes.js';
import { CalendarDirectory, type AccessRole, type CalendarData } from './calendar-directory.js';
import { mountCalendarListRoutes } from './calendar-list-routes.js';
import { ChannelRegistry, type ResourceState } from './channels.js';
import { newEventId } from './event-factory.js';
import { cancelledEvent, newEvent, patchedEvent } from './event-mutations.js';
import type { CalendarEvent, EventInput } from './event-types.js';
import { largeGenerator } from './large-calendar.js';
import { mountEventRoutes } from './events-routes.js';
import { errors, rateLimitBody, type RateLimitReason } from './google-errors.js';
import { providerOrigins } from './provider-origins.js';
import { DEMO_ACCOUNTS, seedDemo, type SandboxAccount } from './seed.js';

export const SANDBOX_GOOGLE_CLIENT: OAuthClient = {
  clientId: '1234567890-pdecksandbox.apps.googleusercontent.com',
  clientSecret: 'GOCSPX-pdeck-sandbox-secret',
  name: 'PDeck Integrations (sandbox)',
};

export interface NewCalendarInput {
  id?: string;
  summary: string;
  timeZone?: string;
  accessRole?: AccessRole;
  hidden?: boolean;
  selected?: boolean;
}

export interface GoogleCalendarFakeOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  clients?: OAuthClient[];
  accounts?: SandboxAccount[];
  /** Seed the demo calendars and events (default true); false leaves only empty primaries. */
  seed?: boolean;
  /** Demo events are placed around the Monday of this date's week (default: now). */
  seedAnchor?: Date;
  accessTokenTtlSec?: number;
  channelDefaultTtlMs?: number;
  channelMaxTtlMs?: number;
  requireHttpsWebhooks?: boolean;
  push?: PushSenderOptions;
  /**
   * Byte budget for caching serialized events.list pages (0 = off, the default). A 100k-event
   * full sync is ~66 MB of JSON; benchmarks that repeat it can set e.g. 128 MB.
   */
  pageCacheBytes?: number;
  now?: () => number;
}

/**
 * Offline Google Calendar: OAuth (accounts.google.com + oauth2.googleapis.com) and Calendar v3
 * (www.googleapis.com) on one loopback port, with seeded accounts, push channels and admin
 * controls. Point PROVIDER_ORIGINS at it with `fake.origins()`.
 */
export class GoogleCalendarFake {
  readonly server: SandboxServer;
  readonly oauth: OAuth2Fake;
  readonly directory: CalendarDirectory;
  readonly channels: ChannelRegistry;
  readonly pushes: PushSender;
  readonly accounts: SandboxAccount[];
  readonly clients: OAuthClient[];
  readonly pageCache: PageCache;
  private readonly now: () => number;
  private readonly anchor: Date;

  constructor(options: GoogleCalendarFakeOptions = {}) {
    this.now = options.now ?? Date.now;
    this.anchor = options.seedAnchor ?? new Date(this.now());
    this.accounts = options.accounts ?? DEMO_ACCOUNTS;
    this.clients = options.clients ?? [SANDBOX_GOOGLE_CLIENT];
    this.server = new SandboxServer({
      port: options.port,
      host: options.host,
      notFoundBody: () => errors.notFound().body,
    });
    this.oauth = new OAuth2Fake(this.server, {
      clients: this.clients,
      accounts: this.accounts,
      accessTokenTtlSec: options.accessTokenTtlSec ?? 3600,
      providerName: 'Google',
      now: this.now,
    });
    this.directory = new CalendarDirectory(this.now);
    if (options.seed !== false) seedDemo(this.directory, this.accounts, this.anchor);
    else for (const a of this.accounts) this.directory.addAccount(a.email, a.name, a.timeZone);
    this.pushes = new PushSender(options.push);
    this.channels = new ChannelRegistry(this.pushes, this.now);
    this.pageCache = new PageCache(options.pageCacheBytes ?? 0);
    mountCalendarListRoutes(this.server, this.oauth, this.directory);
    mountEventRoutes(
      this.server,
      this.oauth,
      this.directory,
      this.channels,
      {
        defaultTtlMs: options.channelDefaultTtlMs ?? 7 * 86_400_000,
        maxTtlMs: options.channelMaxTtlMs ?? 30 * 86_400_000,
        requireHttps: options.requireHttpsWebhooks ?? false,
        now: this.now,
      },
      { pageCache: this.pageCache },
    );
    mountAdminRoutes(this.server, this);
    this.server.addStats('calendar', () => ({
      channels: this.channels.stats(),
      pushes: this.pushes.stats(),
      pageCache: this.pageCache.stats(),
    }));
  }

  get url(): string {
    return this.server.url;
  }

  /**
   * Secrets a leak check looks for: the client secrets and every code and token the OAuth server
   * issued (oauth.issuedSecrets()), plus the verification tokens the client put on its channels.
   */
  issuedSecrets(): string[] {
    return [...this.oauth.issuedSecrets(), ...this.channels.tokens()];
  }

  start(): Promise<string> {
    return this.server.start();
  }

  async stop(): Promise<void> {
    await this.pushes.idle();
    await this.server.stop();
  }

  /** PROVIDER_ORIGINS for the service: every Google origin -> this fake. */
  origins(): Record<string, string> {
    return providerOrigins(this.url);
  }

  /** The account's view of a calendar (`primary` allowed); throws SandboxNotFoundError. */
  calendar(email: string, calendarId: string): CalendarData {
    const found = this.directory.accounts.has(email)
      ? this.directory.resolve(email, calendarId)
      : undefined;
    if (!found) throw new SandboxNotFoundError(`no calendar ${calendarId} for ${email}`);
    return found.calendar;
  }

  /** Creates an event as if someone added it in Google Calendar, then notifies watchers. */
  createEvent(email: string, calendarId: string, input: EventInput = {}): CalendarEvent {
    const calendar = this.calendar(email, calendarId);
    return this.write(calendar, newEvent(calendar, email, input, this.now()));
  }

  /** Patches an event (or one instance of a series, creating the exception) and pushes. */
  updateEvent(
    email: string,
    calendarId: string,
    eventId: string,
    patch: EventInput,
  ): CalendarEvent {
    const calendar = this.calendar(email, calendarId);
    return this.write(calendar, patchedEvent(calendar, eventId, patch));
  }

  /** Deletes an event: it becomes `status: "cancelled"` (a deleted series cancels every instance). */
  cancelEvent(email: string, calendarId: string, eventId: string): CalendarEvent {
    const calendar = this.calendar(email, calendarId);
    return this.write(calendar, cancelledEvent(calendar, eventId));
  }

  /** Adds a calendar the account owns (or has `accessRole` on) to its calendarList. */
  addCalendar(email: string, input: NewCalendarInput): CalendarData {
    const account = this.directory.requireAccount(email);
    const calendar = this.directory.createCalendar({
      id: input.id ?? `${newEventId()}@group.calendar.google.com`,
      summary: input.summary,
      timeZone: input.timeZone ?? account.timeZone,
    });
    this.directory.addToList(email, calendar.id, {
      accessRole: input.accessRole ?? 'owner',
      hidden: input.hidden ?? false,
      selected: input.selected ?? !input.hidden,
    });
    return calendar;
  }

  /**
   * Fills a calendar with `count` generated events (created in the account's list if missing).
   * Existing sync tokens of that calendar turn stale: a bulk reseed needs a full sync.
   */
  seedLarge(email: string, calendarId: string, count: number): CalendarData {
    const exists = this.directory.resolve(email, calendarId);
    const calendar =
      exists?.calendar ??
      this.addCalendar(email, { id: calendarId, summary: 'Load test', timeZone: 'UTC' });
    calendar.store.setBase(largeGenerator(calendar, { email }, count, this.anchor.getTime()));
    calendar.syncEpoch += 1;
    return calendar;
  }

  /** Makes every sync token of the calendar (or of all the account's calendars) answer 410. */
  invalidateSyncTokens(email: string, calendarId?: string): number {
    const calendars = calendarId
      ? [this.calendar(email, calendarId)]
      : this.directory.calendarsOf(email);
    for (const c of calendars) c.syncEpoch += 1;
    return calendars.length;
  }

  /** The next `count` Calendar API calls answer 403 or 429 with Google's usage-limit body. */
  rateLimitNext(
    count = 1,
    status: 403 | 429 = 403,
    reason: RateLimitReason = 'rateLimitExceeded',
  ): void {
    this.server.addFault({
      status,
      body: rateLimitBody(status, reason),
      path: '/calendar/v3/',
      times: count,
      headers: { 'content-type': 'application/json; charset=UTF-8' },
    });
  }

  failNext(fault: FaultSpec): void {
    this.server.addFault(fault);
  }

  /** Sends one notification on a channel (e.g. a forged `exists` or a `not_exists`). */
  pushTo(channelId: string, state: ResourceState = 'exists'): void {
    const channel = this.channels.get(channelId);
    if (!channel) throw new SandboxNotFoundError(`no channel ${channelId}`);
    this.channels.push(channel, state);
  }

  /** Resolves when no push delivery is in flight. */
  whenIdle(): Promise<void> {
    return this.pushes.idle();
  }

  stats(): Record<string, unknown> {
    return this.server.stats();
  }

  /** Accounts, calendars, channels and counters: what `GET /__admin/state` returns. */
  state(): Record<string, unknown> {
    return describeState(this);
  }

  private write(calendar: CalendarData, event: CalendarEvent): CalendarEvent {
    const stored = calendar.store.put(event);
    this.channels.notify(calendar.id);
    return stored;
  }
}
