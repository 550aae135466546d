import { expect } from 'vitest';
import type { ConnectionCredentials } from '@pdeck/integration-sdk';
import {
  autoConsent,
  describeProviderContract,
  driveConnect,
  type ContractContext,
  type ContractHarness,
  type ContractStarted,
  type ExpectedChange,
} from '@pdeck/integration-sdk/testing';
import { ALICE, OutlookFake } from '@pdeck/plugin-outlook-calendar/sandbox';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { idsInWindow, outlookFakeEnv } from '../support/outlook-fake-env.js';

const RETURN_ORIGIN = 'http://127.0.0.1:5999';

/**
 * Outlook Calendar (the plugin, loaded only through INTEGRATION_PLUGINS) against OutlookFake:
 * consent with `auto=allow&account=alice`, items are the default calendar's events inside the
 * delta window, changes arrive as Graph change notifications that trigger a delta sync.
 */
class OutlookCalendarHarness implements ContractHarness {
  private fake?: OutlookFake;
  private app?: TestApp;
  private used = new Set<string>();

  async start(): Promise<ContractStarted> {
    this.fake = new OutlookFake({ allowHttpLoopback: true });
    await this.fake.start();
    this.app = await startTestApp({
      env: { ...outlookFakeEnv(this.fake), RETURN_TO_ORIGINS: RETURN_ORIGIN },
    });
    return { app: this.app, fakeUrl: this.fake.url };
  }

  connect(app: TestApp, userId: string): Promise<string> {
    return driveConnect(app, {
      provider: 'outlook-calendar',
      userId,
      returnTo: `${RETURN_ORIGIN}/connected`,
      consent: autoConsent(ALICE, (url) => {
        expect(url.origin).toBe(new URL(this.outlook.url).origin);
        expect(url.pathname).toBe('/common/oauth2/v2.0/authorize');
      }),
    });
  }

  expectedAccount() {
    const user = this.outlook.mailbox(ALICE).user;
    return { accountId: user.id, accountLabel: ALICE };
  }

  /** Alice's events inside the window the connection's cursor holds. */
  async sourceItems(ctx: ContractContext): Promise<string[]> {
    const [row] = await ctx.db.query('SELECT cursor FROM sync_states WHERE connection_id = $1', [
      ctx.connectionId,
    ]);
    return idsInWindow(this.outlook, ALICE, row.cursor);
  }

  async mutate(): Promise<ExpectedChange> {
    const event = this.takeEvent();
    const title = `Renamed by the contract ${Date.now()}`;
    this.outlook.updateEvent(ALICE, event, { subject: title });
    return { externalId: event, title };
  }

  async deleteAtSource(): Promise<string> {
    const event = this.takeEvent();
    this.outlook.deleteEvent(ALICE, event);
    return event;
  }

  /** A real subscription id with a wrong clientState. */
  async forgeWebhook(ctx: ContractContext): Promise<number> {
    const [sub] = await ctx.db.query(
      'SELECT external_id FROM webhook_subscriptions WHERE connection_id = $1 LIMIT 1',
      [ctx.connectionId],
    );
    expect(sub).toBeDefined();
    const res = await fetch(`${ctx.app.baseUrl}/v1/webhooks/outlook-calendar`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        value: [
          {
            subscriptionId: sub.external_id,
            clientState: 'forged-client-state',
            changeType: 'updated',
            resource: 'Users/x/Events/y',
            tenantId: 'x',
          },
        ],
      }),
    });
    return res.status;
  }

  /**
   * Microsoft documents no token revocation endpoint (see the plugin's README): disconnecting
   * deletes the subscription at Graph, and nothing is revoked there.
   */
  async expectDisconnected(_ctx: ContractContext, creds: ConnectionCredentials): Promise<void> {
    expect(this.outlook.subscriptions.active(this.outlook.mailbox(ALICE))).toEqual([]);
    expect(creds.accessToken).toBeTruthy();
    expect((this.outlook.oauth.stats() as { revocations: number }).revocations).toBe(0);
  }

  whenIdle(): Promise<void> {
    return this.outlook.whenIdle();
  }

  async stop(): Promise<void> {
    await this.app?.close();
    await this.fake?.stop();
  }

  private get outlook(): OutlookFake {
    if (!this.fake) throw new Error('harness not started');
    return this.fake;
  }

  /** A single-instance event of Alice inside the coming days not used by another test yet. */
  private takeEvent(): string {
    const soon = Date.now() + 60 * 24 * 3600_000;
    const event = [...this.outlook.mailbox(ALICE).events.values()].find(
      (e) =>
        !this.used.has(e.id) &&
        e.type === 'singleInstance' &&
        Date.parse(`${e.start.dateTime.slice(0, 23)}Z`) > Date.now() &&
        Date.parse(`${e.start.dateTime.slice(0, 23)}Z`) < soon,
    );
    if (!event) throw new Error('no spare event in the window');
    this.used.add(event.id);
    return event.id;
  }
}

describeProviderContract('outlook-calendar', new OutlookCalendarHarness());
