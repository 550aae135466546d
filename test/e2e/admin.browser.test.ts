import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleCalendarFake } from '../../sandbox/google-calendar/google-calendar.fake.js';
import { ConnectionStore } from '../../src/auth/connection-store.service.js';
import { GoogleCalendarProvider } from '../../src/providers/google-calendar/google-calendar.provider.js';
import { storeGoogleConnection } from '../support/admin-kit.js';
import {
  chromiumAvailable,
  launchChromium,
  seriousViolations,
  watchPage,
} from '../support/browser.js';
import { eventually } from '@pdeck/integration-sdk/testing';
import { startTestApp, TEST_API_TOKEN, type TestApp } from '../support/test-app.js';
import { googleFakeEnv } from '../support/google-fake-env.js';

const ARTIFACTS = 'test-artifacts';

/**
 * The operator console in Chromium: sign in, the overview, a connection's detail page, Sync now,
 * Disconnect with its confirmation, the queue dashboard, sign out. Each console page is scanned
 * with axe (at desktop width and at 375 px) and must run without a console or CSP error.
 */
describe.skipIf(!chromiumAvailable)('Operator console in Chromium', () => {
  let fake: GoogleCalendarFake;
  let t: TestApp;
  let browser: Browser;
  let connectionId: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    fake = new GoogleCalendarFake();
    await fake.start();
    t = await startTestApp({
      integrations: [GoogleCalendarProvider],
      env: {
        ...googleFakeEnv(fake),
      },
    });
    const store = t.app.get(ConnectionStore);
    connectionId = await storeGoogleConnection(store, fake, 'pdeck-user-a', 'alice@example.com');
    await storeGoogleConnection(store, fake, 'pdeck-user-b', 'bob@example.com');
    // A day of history for the overview's charts (and the screenshot in the docs).
    const db = t.app.get(DataSource);
    await db.query(
      `INSERT INTO sync_runs (id, connection_id, mode, trigger, status, started_at, finished_at)
       SELECT gen_random_uuid(), $1, 'incremental', 'schedule',
              CASE WHEN h % 7 = 3 THEN 'failed' ELSE 'succeeded' END,
              now() - make_interval(hours => h) - make_interval(secs => 2 + h % 5),
              now() - make_interval(hours => h)
       FROM generate_series(1, 23) AS h, generate_series(1, 2) AS k`,
      [connectionId],
    );
    await db.query(
      `INSERT INTO webhook_deliveries (id, provider, delivery_id, status, received_at)
       SELECT gen_random_uuid(), 'google-calendar', gen_random_uuid()::text,
              CASE WHEN h % 9 = 4 THEN 'failed' ELSE 'processed' END,
              now() - make_interval(hours => h)
       FROM generate_series(1, 23) AS h, generate_series(1, 1 + h % 4) AS k`,
    );
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await fake?.stop();
  });

  /**
   * Script errors and CSP refusals of a page, failed sub-resources of the service, and any
   * request that leaves it (the console loads nothing from elsewhere).
   */
  function watch(page: Page): string[] {
    return watchPage(page, { serviceUrl: t.baseUrl, serviceOnly: true });
  }

  /** axe at the current width and at 375 px, where the page must not scroll sideways. */
  async function check(page: Page, name: string): Promise<void> {
    expect(await seriousViolations(page), name).toEqual([]);
    await page.screenshot({ path: `${ARTIFACTS}/admin-${name}.png`, fullPage: true });
    const size = page.viewportSize()!;
    await page.setViewportSize({ width: 375, height: 800 });
    expect(await seriousViolations(page), `${name} at 375 px`).toEqual([]);
    const overflow = await page.evaluate(
      '(() => document.documentElement.scrollWidth - window.innerWidth)()',
    );
    expect(overflow, `${name} scrolls sideways at 375 px`).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `${ARTIFACTS}/admin-${name}-375.png`, fullPage: true });
    await page.setViewportSize(size);
  }

  it('signs in, shows the overview and a connection, syncs, disconnects, opens the queues, signs out', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watch(page);

    // Without a session every page leads to the sign-in form.
    await page.goto(`${t.baseUrl}/admin/connections`);
    await page.waitForURL(`${t.baseUrl}/admin/sign-in`);
    await check(page, 'sign-in');
    await page.getByLabel('Internal API token').fill('wrong-token-0123456789abcdef');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('not one of');
    await page.getByLabel('Internal API token').fill(TEST_API_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${t.baseUrl}/admin`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Overview');
    await expect(
      page.locator('[data-metric="connections:google-calendar"]').textContent(),
    ).resolves.toBe('2 active');
    await check(page, 'overview');
    // The README's picture (docs/images/admin-overview.png is a copy of this one).
    await page.screenshot({ path: `${ARTIFACTS}/admin-overview-readme.png`, fullPage: false });

    // Connections, then one connection's detail page.
    await page
      .getByRole('navigation', { name: 'Console' })
      .getByRole('link', { name: 'Connections' })
      .click();
    await page.waitForURL(`${t.baseUrl}/admin/connections`);
    await check(page, 'connections');
    await page.getByRole('link', { name: 'alice@example.com' }).click();
    await page.waitForURL(`${t.baseUrl}/admin/connections/${connectionId}`);
    await expect(page.locator('h1').textContent()).resolves.toBe(
      'Google Calendar: alice@example.com',
    );

    // Sync now: the run appears on the page, with the action in the audit log.
    await page.getByRole('button', { name: 'Sync now' }).click();
    await page.waitForURL(/notice=sync-started/);
    await expect(page.getByRole('status').textContent()).resolves.toContain('sync was requested');
    const runs = page.getByRole('region', { name: 'Sync runs' }).locator('tbody tr');
    await expect(runs.count()).resolves.toBeGreaterThan(0);
    await expect(
      page.getByRole('region', { name: 'Audit log' }).locator('tbody').textContent(),
    ).resolves.toContain('Sync now');
    await check(page, 'connection');

    // Disconnect asks first.
    await page.getByRole('link', { name: 'Disconnect…' }).click();
    await page.waitForURL(`${t.baseUrl}/admin/connections/${connectionId}/disconnect`);
    await check(page, 'disconnect');
    await page.getByRole('button', { name: 'Yes, disconnect' }).click();
    await page.waitForURL(/notice=disconnected/);
    await expect(page.locator('[data-field="status"]').textContent()).resolves.toBe('disconnected');
    const db = t.app.get(DataSource);
    const [row] = await db.query('SELECT status FROM connections WHERE id = $1', [connectionId]);
    expect(row.status).toBe('disconnected');

    await page.goto(`${t.baseUrl}/admin/issues`);
    await check(page, 'issues');

    // Bull Board lists the service's queues, loading only its own files.
    await page
      .getByRole('navigation', { name: 'Console' })
      .getByRole('link', { name: 'Queues' })
      .click();
    await page.waitForURL(`${t.baseUrl}/admin/queues`);
    for (const name of ['sync', 'webhooks', 'pdeck-events']) {
      await page.getByText(name, { exact: true }).first().waitFor({ timeout: 15_000 });
    }
    await page.screenshot({ path: `${ARTIFACTS}/admin-queues.png`, fullPage: true });

    // Sign out: the session ends, the console asks for the token again.
    await page.goto(`${t.baseUrl}/admin`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${t.baseUrl}/admin/sign-in`);
    await page.goto(`${t.baseUrl}/admin/queues`);
    await page.waitForURL(`${t.baseUrl}/admin/sign-in`);

    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a failing connection with its reason and one open issue, then pauses and resumes it', async () => {
    const db = t.app.get(DataSource);
    const [{ id: bobId }] = await db.query(
      "SELECT id FROM connections WHERE user_id = 'pdeck-user-b'",
    );
    // Google refuses Bob's calendar list three times (a permission it lost): three failed runs.
    fake.failNext({
      status: 403,
      path: '/calendar/v3/users/me/calendarList',
      times: 3,
      body: {
        error: {
          code: 403,
          message: 'Request had insufficient authentication scopes.',
          errors: [{ domain: 'global', reason: 'insufficientPermissions' }],
          status: 'PERMISSION_DENIED',
        },
      },
    });
    for (let n = 0; n < 3; n++) {
      const started = await fetch(`${t.baseUrl}/v1/connections/${bobId}/sync`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_API_TOKEN}`, 'content-type': 'application/json' },
        body: '{}',
      });
      const { syncRunId } = (await started.json()) as { syncRunId: string };
      await eventually(
        async () => {
          const [run] = await db.query('SELECT status FROM sync_runs WHERE id = $1', [syncRunId]);
          return run?.status === 'failed' ? true : undefined;
        },
        `failed run ${n + 1} of Bob's connection`,
        { timeoutMs: 20_000 },
      );
    }

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(`${t.baseUrl}/admin/sign-in`);
    await page.getByLabel('Internal API token').fill(TEST_API_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${t.baseUrl}/admin`);

    // The connections list filtered to failing ones holds Bob's, with the reason in words.
    await page.goto(`${t.baseUrl}/admin/connections?health=failing`);
    const list = page.getByRole('region', { name: /connections/i });
    await expect(list.textContent()).resolves.toContain('bob@example.com');
    await expect(list.textContent()).resolves.not.toContain('alice@example.com');
    await page.getByRole('link', { name: 'bob@example.com' }).click();
    await page.waitForURL(`${t.baseUrl}/admin/connections/${bobId}`);
    const health = page.locator('[data-field="health"]');
    // The reason in words (the run's error code), not the provider's raw answer.
    await expect(health.textContent()).resolves.toBe(
      'failing: The last 3 syncs failed. Last error: The account is no longer allowed to read this data.',
    );
    const issues = page.getByRole('region', { name: 'Issues' }).locator('tbody tr');
    await expect(issues.count()).resolves.toBe(1);
    const issue = await issues.first().locator('td').allTextContents();
    expect(issue.slice(0, 2)).toEqual(['sync', 'open']);
    expect(issue[4]).toBe('3');
    await check(page, 'connection-failing');

    // Pause, then resume the schedule: the health follows, both are in the audit log.
    await page.getByRole('button', { name: 'Pause schedule' }).click();
    await page.waitForURL(new RegExp(`/admin/connections/${bobId}`));
    await expect(health.textContent()).resolves.toMatch(/^paused: /);
    await page.getByRole('button', { name: 'Resume schedule' }).click();
    await page.waitForURL(new RegExp(`/admin/connections/${bobId}`));
    await expect(health.textContent()).resolves.not.toMatch(/^paused: /);
    const audit = await page
      .getByRole('region', { name: 'Audit log' })
      .locator('tbody')
      .textContent();
    expect(audit).toContain('Paused the schedule');
    expect(audit).toContain('Resumed the schedule');

    expect(problems).toEqual([]);
    await context.close();
  });
});
