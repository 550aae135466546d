import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JiraFake, SEED_SITES } from '../../sandbox/jira/index.js';
import { JiraProvider } from '../../src/providers/jira/jira.provider.js';
import { connectSessionUrl, UiBrowser } from '../support/connect-ui-kit.js';
import { connectJira, JIRA_RETURN_ORIGIN, jiraEnv } from '../support/jira-e2e-kit.js';
import { freePort, startTestApp, type TestApp } from '../support/test-app.js';

/** The Connect UI's Jira site picker, against the Jira fake (alice reaches two Jira sites). */
describe('Connect UI: choosing a Jira site', () => {
  const userId = `ui-jira-${randomUUID().slice(0, 8)}`;
  let fake: JiraFake;
  let t: TestApp;
  let connectionId: string;

  beforeAll(async () => {
    fake = new JiraFake();
    await fake.start();
    t = await startTestApp({
      port: await freePort(),
      integrations: [JiraProvider],
      env: jiraEnv(fake),
    });
    const confirmed = await connectJira(t, userId, 'alice');
    expect(confirmed).toMatchObject({ status: 'pending', pendingReason: 'site_required' });
    connectionId = confirmed.id;
  });
  afterAll(async () => {
    await t?.close();
    await fake?.stop();
  });

  const statusOf = async (): Promise<string> =>
    (
      (await t.app
        .get(DataSource)
        .query('SELECT status FROM connections WHERE id = $1', [connectionId])) as {
        status: string;
      }[]
    )[0].status;

  it('lists the sites of a connection waiting for a choice, and the choice activates it', async () => {
    const browser = new UiBrowser(t.baseUrl);
    await browser.open(
      await connectSessionUrl(t.baseUrl, { userId, returnTo: `${JIRA_RETURN_ORIGIN}/x` }),
    );
    const html = await (await browser.get('/connect')).text();
    expect(html).toContain('Almost done: choose which site to sync.');
    expect(html).toContain(`value="${SEED_SITES.pdeck}"`);
    expect(html).toContain(`value="${SEED_SITES.acme}"`);
    expect(html).not.toContain(`value="${SEED_SITES.wiki}"`); // Confluence only
    const csrf = await browser.csrf();

    // Another user's session (which has no form, hence no token) cannot use this one's token.
    const other = new UiBrowser(t.baseUrl);
    await other.open(await connectSessionUrl(t.baseUrl, { userId: 'someone-else' }));
    const foreign = await other.post(`/connect/connections/${connectionId}/site`, {
      csrf,
      cloudId: SEED_SITES.pdeck,
    });
    expect(foreign.status).toBe(403);
    expect(await statusOf()).toBe('pending');

    const missing = await browser.post(`/connect/connections/${connectionId}/site`, { csrf });
    expect(missing.status).toBe(400);
    const wrong = await browser.post(`/connect/connections/${connectionId}/site`, {
      csrf,
      cloudId: SEED_SITES.wiki,
    });
    expect(wrong.status).toBe(400);
    expect(wrong.headers.get('content-type')).toContain('text/html');
    expect(await statusOf()).toBe('pending');

    const chosen = await browser.post(`/connect/connections/${connectionId}/site`, {
      csrf,
      cloudId: SEED_SITES.pdeck,
    });
    expect(chosen.status).toBe(303);
    expect(chosen.headers.get('location')).toBe('/connect?notice=site-chosen');
    expect(await statusOf()).toBe('active');
    const after = await (await browser.get('/connect?notice=site-chosen')).text();
    expect(after).toContain('The site was chosen; the first sync has started.');
    expect(after).not.toContain('choose which site');
  });
});
