import { expect } from 'vitest';
import { JiraFake, SEED_SITES, signJwt } from '../../sandbox/jira/index.js';
import type { ConnectionCredentials } from '@pdeck/integration-sdk';
import { JiraProvider } from '../../src/providers/jira/jira.provider.js';
import {
  describeProviderContract,
  type ContractContext,
  type ContractHarness,
  type ContractStarted,
  type ExpectedChange,
} from '@pdeck/integration-sdk/testing';
import { connectJira, jiraEnv, scopeIssueIds } from '../support/jira-e2e-kit.js';
import { freePort, startTestApp, type TestApp } from '../support/test-app.js';

const BOB = '5b10a2844c20165700ede21g';

/**
 * Jira Cloud against JiraFake: Bob has one Jira site (labs), so confirming activates the
 * connection at once. Items are his assigned issues in the default scope, keyed by issue id;
 * changes arrive as JWT-signed dynamic-webhook deliveries.
 */
class JiraHarness implements ContractHarness {
  private fake?: JiraFake;
  private app?: TestApp;

  async start(): Promise<ContractStarted> {
    this.fake = new JiraFake({ webhooks: { baseDelayMs: 50 } });
    await this.fake.start();
    this.app = await startTestApp({
      port: await freePort(),
      integrations: [JiraProvider],
      env: jiraEnv(this.fake),
    });
    return { app: this.app, fakeUrl: this.fake.url };
  }

  async connect(app: TestApp, userId: string): Promise<string> {
    const connection = await connectJira(app, userId, 'bob', (url) => {
      expect(url.origin).toBe(new URL(this.jira.url).origin);
      expect(url.pathname).toBe('/authorize');
      expect(url.searchParams.get('audience')).toBe('api.atlassian.com');
      expect(url.searchParams.get('prompt')).toBe('consent');
    });
    expect(connection).toMatchObject({ status: 'active', siteId: SEED_SITES.labs });
    return connection.id;
  }

  expectedAccount() {
    return { accountId: BOB, accountLabel: 'bob-labs (Bob Builder)' };
  }

  async sourceItems(): Promise<string[]> {
    return scopeIssueIds(this.jira, SEED_SITES.labs, BOB);
  }

  /** Renames an open issue of Bob's: a jira:issue_updated delivery with the full issue. */
  async mutate(): Promise<ExpectedChange> {
    const title = `Renamed by the contract ${Date.now()}`;
    const issue = this.jira.updateIssue(SEED_SITES.labs, this.openIssueKey(), { summary: title });
    return { externalId: issue.id, title };
  }

  async deleteAtSource(): Promise<string> {
    return this.jira.deleteIssue(SEED_SITES.labs, this.openIssueKey()).id;
  }

  /** A well-formed delivery for Bob's webhook, its JWT signed with another secret. */
  async forgeWebhook(ctx: ContractContext): Promise<number> {
    const [hook] = this.jira.webhooks.list(this.jira.apps[0].clientId, SEED_SITES.labs);
    const body = JSON.stringify({
      timestamp: Date.now(),
      webhookEvent: 'jira:issue_updated',
      matchedWebhookIds: [hook?.id ?? 10000],
      issue: { id: '1', key: 'LAB-1', self: 'https://bob-labs.atlassian.net/rest/api/3/issue/1' },
    });
    const now = Math.floor(Date.now() / 1000);
    const res = await fetch(`${ctx.app.baseUrl}/v1/webhooks/jira`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${signJwt({ iat: now, exp: now + 600 }, 'not-the-client-secret')}`,
        'x-atlassian-webhook-identifier': `forged-${now}`,
      },
      body,
    });
    return res.status;
  }

  /** No webhook of ours is left at the site and the tokens are forgotten (no revoke exists). */
  async expectDisconnected(_ctx: ContractContext, creds: ConnectionCredentials): Promise<void> {
    expect(this.jira.webhooks.list(this.jira.apps[0].clientId, SEED_SITES.labs)).toEqual([]);
    expect(creds.refreshToken).toBeTruthy();
  }

  whenIdle(): Promise<void> {
    return this.jira.whenIdle();
  }

  async stop(): Promise<void> {
    await this.app?.close();
    await this.fake?.stop();
  }

  /** An issue of Bob's that is not done (still in scope whatever its age), by key. */
  private openIssueKey(): string {
    const issue = this.jira.data
      .siteIssues(SEED_SITES.labs)
      .find((i) => i.assignee === BOB && i.status !== 'Done');
    if (!issue) throw new Error('no open issue of Bob left in the seed');
    return issue.key;
  }

  private get jira(): JiraFake {
    if (!this.fake) throw new Error('harness not started');
    return this.fake;
  }
}

describeProviderContract('jira', new JiraHarness());
