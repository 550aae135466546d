import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium, wcagScan, watchPage } from '../support/browser.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { TEST_OAUTH_ID, TestOAuthProvider } from '../support/test-oauth-provider.js';
import { CLIENT } from '../support/token-test-kit.js';

/**
 * The pages a person opens, in a real browser: Swagger UI at /docs (rendered by its own script
 * under our Content-Security-Policy) and the page a browser gets when a connect callback is
 * refused. Each is scanned for WCAG 2 A/AA problems with axe.
 */
describe.skipIf(!chromiumAvailable)('pages in Chromium, with an accessibility scan', () => {
  let t: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    t = await startTestApp({
      integrations: [TestOAuthProvider],
      configure: (config) => {
        config.providerCredentials[TEST_OAUTH_ID] = { ...CLIENT };
      },
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /**
   * Opens a page and collects what the browser complained about: script errors, CSP refusals,
   * and every sub-resource that failed (the page's own status is returned, not a problem).
   */
  async function open(path: string): Promise<{ page: Page; problems: string[]; status: number }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    const url = `${t.baseUrl}${path}`;
    const problems = watchPage(page);
    page.on('response', (r) => {
      if (r.status() >= 400 && r.url() !== url) problems.push(`${r.status()} ${r.url()}`);
    });
    const response = await page.goto(url, { waitUntil: 'load' });
    return { page, problems, status: response?.status() ?? 0 };
  }

  /**
   * WCAG 2.1 A/AA violations, but for `known`: rule id -> the selector ending of the nodes it is
   * accepted on. Everything else, and a known rule on any other node, is reported.
   */
  async function wcagViolations(page: Page, known: Record<string, string> = {}): Promise<string[]> {
    return (await wcagScan(page)).flatMap((v) => {
      const nodes = v.nodes
        .map((n) => n.target.join(' '))
        .filter((target) => !(known[v.id] && target.endsWith(known[v.id])));
      return nodes.length ? [`${v.id} (${v.impact}): ${nodes.join(', ')}`] : [];
    });
  }

  it('renders Swagger UI at /docs with every route, without a CSP or script error', async () => {
    const { page, problems, status } = await open('/docs');
    expect(status).toBe(200);
    await page.locator('.opblock').first().waitFor({ timeout: 15_000 });
    const operations = await page.locator('.opblock').count();
    expect(operations).toBeGreaterThan(10);
    await expect(
      page.locator('.opblock-summary-path', { hasText: '/v1/connections/{id}/confirm' }).count(),
    ).resolves.toBe(1);
    expect(problems).toEqual([]);
    // Swagger UI renders each operation's deep link (<a href="#/operations/...">) inside the
    // button that expands it; its options cannot change that markup. Accepted there only.
    const known = { 'nested-interactive': '.opblock-summary-control' };
    expect(await wcagViolations(page, known)).toEqual([]);
    await page.context().close();
  });

  it('shows a refused connect callback as a short, accessible page', async () => {
    const { page, problems, status } = await open(`/v1/oauth/${TEST_OAUTH_ID}/callback?code=x`);
    expect(status).toBe(400);
    await expect(page.locator('h1').textContent()).resolves.toBe(
      'The connection could not be completed',
    );
    await expect(page.locator('body').textContent()).resolves.toContain('no state parameter');
    expect(problems).toEqual([]);
    expect(await wcagViolations(page)).toEqual([]);
    await page.context().close();
  });
});
