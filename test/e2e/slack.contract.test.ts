import { expect } from 'vitest';
import { SEED_SLACK, SlackFake } from '../../sandbox/slack/index.js';
import type { ConnectionCredentials } from '@pdeck/integration-sdk';
import { SlackProvider } from '../../src/providers/slack/slack.provider.js';
import {
  describeProviderContract,
  type ContractContext,
  type ContractHarness,
  type ContractStarted,
  type ExpectedChange,
} from '@pdeck/integration-sdk/testing';
import { backfillIds, connectSlack, slackEnv, useRequestUrl } from '../support/slack-e2e-kit.js';
import { freePort, startTestApp, type TestApp } from '../support/test-app.js';

const { channels, users, team } = SEED_SLACK;

/**
 * Slack against SlackFake: Alice installs the app into the PDeck Sandbox workspace (bot token and
 * her user token). Items are the messages of her conversations' last 7 days (plus public channels
 * the bot is in); changes arrive as signed Events API requests.
 */
class SlackHarness implements ContractHarness {
  private fake?: SlackFake;
  private app?: TestApp;

  async start(): Promise<ContractStarted> {
    this.fake = new SlackFake({ historyTier: 'tier3', retryDelaysMs: [200, 400, 800] });
    await this.fake.start();
    this.app = await startTestApp({
      port: await freePort(),
      integrations: [SlackProvider],
      env: slackEnv(this.fake),
    });
    await useRequestUrl(this.fake, this.app);
    return { app: this.app, fakeUrl: this.fake.url };
  }

  async connect(app: TestApp, userId: string): Promise<string> {
    const connection = await connectSlack(app, userId, 'alice', (url) => {
      expect(url.pathname).toBe('/oauth/v2/authorize');
      // Comma-separated, both lists.
      expect(url.searchParams.get('scope')).toMatch(/^[a-z:_]+(,[a-z:_]+)+$/);
      expect(url.searchParams.get('user_scope')).toMatch(/^[a-z:_]+(,[a-z:_]+)+$/);
    });
    expect(connection.status).toBe('active');
    return connection.id;
  }

  expectedAccount() {
    return { accountId: team.id, accountLabel: `${team.name} (alice)` };
  }

  async sourceItems(): Promise<string[]> {
    return backfillIds(this.slack, users.alice);
  }

  /** A new message in #general: a `message` event with the full message. */
  async mutate(): Promise<ExpectedChange> {
    const title = `Posted by the contract ${Date.now()}`;
    const message = this.slack.postMessage(channels.general, { user: users.bob, text: title });
    return { externalId: `${channels.general}:${message.ts}`, title };
  }

  async deleteAtSource(): Promise<string> {
    const [latest] = this.slack.data
      .messages(channels.general)
      .filter((m) => !m.subtype)
      .slice(-1);
    this.slack.deleteMessage(channels.general, latest.ts);
    return `${channels.general}:${latest.ts}`;
  }

  /** A well-formed event for the workspace, signed with another secret. */
  async forgeWebhook(): Promise<number> {
    const body = {
      type: 'event_callback',
      team_id: team.id,
      api_app_id: 'A0PDECKAPP',
      event_id: `EvFORGED${Date.now()}`,
      event_time: Math.floor(Date.now() / 1000),
      event: {
        type: 'message',
        channel: channels.general,
        user: users.bob,
        text: 'forged',
        ts: '1.000001',
      },
    };
    return this.slack.events.sendSigned(JSON.stringify(body), { secret: 'not-the-signing-secret' });
  }

  /** Both tokens were revoked at Slack with auth.revoke. */
  async expectDisconnected(_ctx: ContractContext, creds: ConnectionCredentials): Promise<void> {
    const revoked = this.slack.counters.revokedTokens;
    expect(revoked).toContain(creds.accessToken);
    expect(revoked).toContain(creds.linked?.user?.accessToken);
    expect(this.slack.data.tokenInfo(creds.accessToken)?.revoked).toBe(true);
  }

  whenIdle(): Promise<void> {
    return this.slack.whenIdle();
  }

  async stop(): Promise<void> {
    await this.app?.close();
    await this.fake?.stop();
  }

  private get slack(): SlackFake {
    if (!this.fake) throw new Error('harness not started');
    return this.fake;
  }
}

describeProviderContract('slack', new SlackHarness());
