import { expect } from 'vitest';
import { GoogleCalendarFake } from '../../sandbox/google-calendar/google-calendar.fake.js';
import {
  CALENDAR_READONLY,
  listAll,
  type EventsPage,
} from '../../sandbox/google-calendar/google-calendar.test-kit.js';
import { GoogleCalendarProvider } from '../../src/providers/google-calendar/google-calendar.provider.js';
import type { ConnectionCredentials } from '@pdeck/integration-sdk';
import {
  describeProviderContract,
  driveConnect,
  followConsentRedirect,
  type ContractContext,
  type ContractHarness,
  type ContractStarted,
  type ExpectedChange,
} from '@pdeck/integration-sdk/testing';
import { freePort, startTestApp, type TestApp } from '../support/test-app.js';

const ALICE = 'alice@example.com';
const RETURN_ORIGIN = 'http://127.0.0.1:5999';

type GoogleEvent = EventsPage['items'][number];

/**
 * Google Calendar against GoogleCalendarFake: consent with `auto=allow&account=alice`, items are
 * `<calendarId>:<eventId>` of the calendars Alice shows (primary + selected, not hidden), changes
 * arrive as push notifications that trigger an incremental sync.
 */
class GoogleCalendarHarness implements ContractHarness {
  private fake?: GoogleCalendarFake;
  private app?: TestApp;
  /** Simple (non-recurring) events of the primary calendar; mutate and delete take different ones. */
  private spare: GoogleEvent[] = [];

  async start(): Promise<ContractStarted> {
    this.fake = new GoogleCalendarFake();
    await this.fake.start();
    this.app = await startTestApp({
      port: await freePort(),
      integrations: [GoogleCalendarProvider],
      env: {
        PROVIDER_ORIGINS: JSON.stringify(this.fake.origins()),
        GOOGLE_CALENDAR_CLIENT_ID: this.fake.clients[0].clientId,
        GOOGLE_CALENDAR_CLIENT_SECRET: this.fake.clients[0].clientSecret,
        RETURN_TO_ORIGINS: RETURN_ORIGIN,
      },
    });
    return { app: this.app, fakeUrl: this.fake.url };
  }

  connect(app: TestApp, userId: string): Promise<string> {
    return driveConnect(app, {
      provider: 'google-calendar',
      userId,
      returnTo: `${RETURN_ORIGIN}/connected`,
      consent: (url) => {
        expect(url.origin).toBe(new URL(this.google.url).origin);
        url.searchParams.set('auto', 'allow');
        url.searchParams.set('account', ALICE);
        return followConsentRedirect(url);
      },
    });
  }

  expectedAccount() {
    return { accountId: ALICE, accountLabel: ALICE };
  }

  /** Alice's shown calendars, read from the fake's own calendar list, not from our tables. */
  async sourceItems(): Promise<string[]> {
    const fake = this.google;
    const token = fake.oauth.issueTokens(ALICE, [CALENDAR_READONLY]).access_token;
    const account = fake.directory.requireAccount(ALICE);
    const shown = [...account.entries.values()].filter(
      (e) =>
        !e.deleted && e.accessRole !== 'freeBusyReader' && (e.primary || (e.selected && !e.hidden)),
    );
    const ids: string[] = [];
    for (const entry of shown) {
      const { items } = await listAll(fake, token, entry.calendarId);
      ids.push(
        ...items.filter((e) => e.status !== 'cancelled').map((e) => `${entry.calendarId}:${e.id}`),
      );
    }
    return ids;
  }

  /** Renames an existing event of the primary calendar; Google pushes `exists` on its channel. */
  async mutate(): Promise<ExpectedChange> {
    const event = await this.takeSimpleEvent();
    const title = `Renamed by the contract ${Date.now()}`;
    this.google.updateEvent(ALICE, ALICE, event.id, { summary: title });
    return { externalId: `${ALICE}:${event.id}`, title };
  }

  /** Deletes (cancels) another existing event of the primary calendar. */
  async deleteAtSource(): Promise<string> {
    const event = await this.takeSimpleEvent();
    this.google.cancelEvent(ALICE, ALICE, event.id);
    return `${ALICE}:${event.id}`;
  }

  /** A real channel and resource id with a wrong channel token. */
  async forgeWebhook(ctx: ContractContext): Promise<number> {
    const [sub] = await ctx.db.query(
      'SELECT external_id, external_resource_id FROM webhook_subscriptions WHERE connection_id = $1 LIMIT 1',
      [ctx.connectionId],
    );
    expect(sub).toBeDefined();
    const res = await fetch(`${ctx.app.baseUrl}/v1/webhooks/google-calendar`, {
      method: 'POST',
      headers: {
        'x-goog-channel-id': sub.external_id,
        'x-goog-resource-id': sub.external_resource_id,
        'x-goog-resource-state': 'exists',
        'x-goog-message-number': '424242',
        'x-goog-channel-token': 'forged-token',
      },
    });
    return res.status;
  }

  async expectDisconnected(_ctx: ContractContext, creds: ConnectionCredentials): Promise<void> {
    const fake = this.google;
    expect(fake.channels.active()).toEqual([]);
    expect(fake.oauth.introspect(creds.accessToken).active).toBe(false);
    if (creds.refreshToken) expect(fake.oauth.introspect(creds.refreshToken).active).toBe(false);
  }

  whenIdle(): Promise<void> {
    return this.google.whenIdle();
  }

  async stop(): Promise<void> {
    await this.app?.close();
    await this.fake?.stop();
  }

  private get google(): GoogleCalendarFake {
    if (!this.fake) throw new Error('harness not started');
    return this.fake;
  }

  private async takeSimpleEvent(): Promise<GoogleEvent> {
    if (this.spare.length === 0) {
      const token = this.google.oauth.issueTokens(ALICE, [CALENDAR_READONLY]).access_token;
      const { items } = await listAll(this.google, token, ALICE);
      this.spare = items.filter(
        (e) => e.status !== 'cancelled' && !e.recurrence && !e.recurringEventId,
      );
    }
    const event = this.spare.shift();
    if (!event) throw new Error('no simple event left in the primary calendar');
    return event;
  }
}

describeProviderContract('google-calendar', new GoogleCalendarHarness());
