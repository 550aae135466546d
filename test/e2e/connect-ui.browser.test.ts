import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleCalendarFake } from '../../sandbox/google-calendar/google-calendar.fake.js';
import { GoogleCalendarProvider } from '../../src/providers/google-calendar/google-calendar.provider.js';
import {
  chromiumAvailable,
  launchChromium,
  seriousViolations,
  watchPage,
} from '../support/browser.js';
import { connectSessionUrl } from '../support/connect-ui-kit.js';
import { freePort, startTestApp, TEST_API_TOKEN, type TestApp } from '../support/test-app.js';
import { googleFakeEnv } from '../support/google-fake-env.js';

const ARTIFACTS = 'test-artifacts';
const USER = 'pdeck-user-browser';

/** What the browser-side callbacks touch (the tests' TypeScript has no DOM library). */
interface BrowserGlobals {
  received: unknown[];
  marker?: number;
  innerWidth: number;
  open(url: string, name: string, features: string): unknown;
  document: { activeElement: unknown; documentElement: { scrollWidth: number } };
}

interface ReceivedMessage {
  origin: string;
  data: {
    type: string;
    connectionId?: string;
    confirm?: string;
    provider?: string;
    error?: string;
  };
}

/**
 * A stand-in for PDeck's settings page, on its own origin (one of RETURN_TO_ORIGINS): it opens
 * the Connect UI in a popup and keeps every message the popup posts from the service's origin.
 */
function openerPage(serviceOrigin: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>PDeck settings</title></head>
<body><main><h1>PDeck settings</h1><ul id="log"></ul></main>
<script>
window.received = [];
window.addEventListener('message', function (e) {
  if (e.origin !== ${JSON.stringify(serviceOrigin)}) return;
  window.received.push({ origin: e.origin, data: e.data });
  var li = document.createElement('li'); li.textContent = e.data.type; document.getElementById('log').appendChild(li);
});
</script></body></html>`;
}

/**
 * The Connect UI in Chromium as PDeck embeds it: a popup opened by PDeck's page, the sandbox's
 * consent page, the result posted back to the opener, confirmed by "PDeck's backend" (this
 * test, through the API), live status, Sync now and Disconnect. Each page is scanned with axe
 * (also at 375 px) and must run without a console or CSP error.
 */
describe.skipIf(!chromiumAvailable)('Connect UI in Chromium', () => {
  let fake: GoogleCalendarFake;
  let t: TestApp;
  let browser: Browser;
  let opener: Server;
  let openerOrigin: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    fake = new GoogleCalendarFake();
    await fake.start();
    const port = await freePort();
    const serviceOrigin = `http://127.0.0.1:${port}`;
    opener = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(openerPage(serviceOrigin));
    });
    await new Promise<void>((resolve) => opener.listen(0, 'localhost', resolve));
    openerOrigin = `http://localhost:${(opener.address() as AddressInfo).port}`;
    t = await startTestApp({
      port,
      integrations: [GoogleCalendarProvider],
      env: {
        ...googleFakeEnv(fake),
        RETURN_TO_ORIGINS: openerOrigin,
      },
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await fake?.stop();
    await new Promise((resolve) => opener?.close(resolve));
  });

  /** Script errors and CSP refusals of a page, and failed sub-resources of the service. */
  function watch(page: Page): string[] {
    return watchPage(page, { serviceUrl: t.baseUrl });
  }

  async function statusOf(popup: Page): Promise<string> {
    return (await popup.locator('[data-field="status"]').first().textContent()) ?? '';
  }

  it('connects in a popup opened by PDeck, hands the result over, then syncs and disconnects', async () => {
    const context = await browser.newContext({ viewport: { width: 1024, height: 800 } });
    const pdeck = await context.newPage();
    await pdeck.goto(`${openerOrigin}/settings`);
    const url = await connectSessionUrl(t.baseUrl, {
      userId: USER,
      returnTo: `${openerOrigin}/settings`,
    });

    // PDeck opens the link in a popup; the token leaves the address bar at once.
    const [popup] = await Promise.all([
      context.waitForEvent('page'),
      pdeck.evaluate(
        (u) =>
          void (globalThis as unknown as BrowserGlobals).open(
            u,
            'pdeck-connect',
            'popup,width=480,height=760',
          ),
        url,
      ),
    ]);
    const problems = watch(popup);
    await popup.waitForURL(`${t.baseUrl}/connect`);
    await expect(popup.locator('h1').textContent()).resolves.toBe('Your integrations');
    await popup.screenshot({ path: `${ARTIFACTS}/connect-ui-empty.png`, fullPage: true });
    expect(await seriousViolations(popup)).toEqual([]);

    // Keyboard only: Tab reaches the Connect button, Enter submits it.
    const connect = popup.getByRole('button', { name: 'Connect Google Calendar' });
    for (
      let i = 0;
      i < 10 &&
      !(await connect.evaluate(
        (b) => b === (globalThis as unknown as BrowserGlobals).document.activeElement,
      ));
      i++
    ) {
      await popup.keyboard.press('Tab');
    }
    await expect(
      connect.evaluate(
        (b) => b === (globalThis as unknown as BrowserGlobals).document.activeElement,
      ),
    ).resolves.toBe(true);
    await Promise.all([
      popup.waitForURL((u) => u.origin === new URL(fake.url).origin),
      popup.keyboard.press('Enter'),
    ]);

    // The sandbox's consent page: Allow.
    await popup.getByRole('button', { name: 'Allow' }).click();
    await popup.waitForURL((u) => u.pathname === '/connect/done');
    const message = await pdeck.waitForFunction(
      () => (globalThis as unknown as BrowserGlobals).received[0],
    );
    const received = (await message.jsonValue()) as ReceivedMessage;
    expect(received.origin).toBe(t.baseUrl);
    expect(received.data).toMatchObject({
      type: 'pdeck-connect:result',
      provider: 'google-calendar',
    });
    // The one-time token is gone from the popup's address bar and page once handed over.
    expect(popup.url()).toBe(`${t.baseUrl}/connect/done`);
    expect(await popup.content()).not.toContain(received.data.confirm!);
    await expect(popup.locator('#done-status').textContent()).resolves.toContain(
      'Waiting for PDeck to confirm',
    );
    await popup.screenshot({ path: `${ARTIFACTS}/connect-ui-done.png`, fullPage: true });
    expect(await seriousViolations(popup)).toEqual([]);

    // PDeck's backend confirms; the popup goes back to /connect by itself.
    const confirmed = await fetch(
      `${t.baseUrl}/v1/connections/${received.data.connectionId}/confirm`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_API_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ userId: USER, token: received.data.confirm }),
      },
    );
    expect(confirmed.status).toBe(200);
    await popup.waitForURL(`${t.baseUrl}/connect`, { timeout: 15_000 });
    await expect.poll(() => statusOf(popup), { timeout: 20_000 }).toBe('Connected.');
    await expect(popup.locator('[data-field="counts"]').textContent()).resolves.toMatch(
      /^\d+ events$/,
    );

    // Sync now, with the provider slowed down: the status shows the sync and updates live.
    fake.failNext({ status: 200, pass: true, delayMs: 3_000, path: /^\/calendar\/v3\// });
    await Promise.all([
      popup.waitForURL(`${t.baseUrl}/connect?notice=sync-started`),
      popup.getByRole('button', { name: /^Sync now/ }).click(),
    ]);
    await expect(popup.locator('#notice').textContent()).resolves.toBe('A sync has started.');
    await expect(statusOf(popup)).resolves.toBe('Syncing now…');
    await expect(popup.locator('[data-field="status"]').getAttribute('aria-live')).resolves.toBe(
      'polite',
    );
    await popup.evaluate(() => ((globalThis as unknown as BrowserGlobals).marker = 1));
    await popup.screenshot({ path: `${ARTIFACTS}/connect-ui-syncing.png`, fullPage: true });
    await expect.poll(() => statusOf(popup), { timeout: 20_000 }).toBe('Connected.');
    // Updated in place by the page's script, not by a reload.
    await expect(
      popup.evaluate(() => (globalThis as unknown as BrowserGlobals).marker),
    ).resolves.toBe(1);
    await popup.screenshot({ path: `${ARTIFACTS}/connect-ui-connected.png`, fullPage: true });
    expect(await seriousViolations(popup)).toEqual([]);

    // At 375 px: nothing serious either, and no horizontal scrolling.
    await popup.setViewportSize({ width: 375, height: 800 });
    expect(await seriousViolations(popup)).toEqual([]);
    await expect(
      popup.evaluate(() => {
        const g = globalThis as unknown as BrowserGlobals;
        return g.document.documentElement.scrollWidth <= g.innerWidth;
      }),
    ).resolves.toBe(true);
    await popup.screenshot({ path: `${ARTIFACTS}/connect-ui-375.png`, fullPage: true });

    // Disconnect: a confirmation page first, then the real thing.
    await popup.getByRole('button', { name: /^Disconnect/ }).click();
    await popup.waitForURL((u) => u.pathname.endsWith('/disconnect'));
    expect(await seriousViolations(popup)).toEqual([]);
    await popup.screenshot({ path: `${ARTIFACTS}/connect-ui-disconnect.png`, fullPage: true });
    await Promise.all([
      popup.waitForURL(`${t.baseUrl}/connect?notice=disconnected`),
      popup.getByRole('button', { name: /^Yes, disconnect/ }).click(),
    ]);
    await expect(popup.locator('#notice').textContent()).resolves.toBe(
      'The account was disconnected.',
    );
    await expect(popup.locator('body').textContent()).resolves.toContain(
      'No accounts are connected yet.',
    );
    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);

  it('a used link shows an accessible page that says to ask PDeck for a new one', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = watch(page);
    const url = await connectSessionUrl(t.baseUrl, { userId: USER });
    await page.goto(url);
    const again = await page.goto(url);
    expect(again?.status()).toBe(410);
    await expect(page.locator('h1').textContent()).resolves.toBe('This link has expired');
    expect(await seriousViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });
});
