import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { stripVTControlCharacters } from 'node:util';
import { Redis } from 'ioredis';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reapOnExit } from '../harness/child-reaper.js';
import { PostgresInstance } from '../harness/postgres-instance.js';
import { eventually, freePort } from '../harness/ports.js';
import { RedisInstance } from '../harness/redis-instance.js';
import {
  chromiumAvailable,
  launchChromium,
  seriousViolations,
  watchPage,
} from '../support/browser.js';

const TOKEN = 'demo-browser-test-token-0123456789abcdef';
const ARTIFACTS = resolve('test-artifacts');

/**
 * `npm run demo` as a newcomer uses it: scripts/demo.mjs with the built service and sandbox, on
 * spare ports, a Postgres and a Redis of the test's own and a temporary DATA_DIR; then, in
 * Chromium, the stand-in PDeck page, its "Manage integrations" popup (the service's Connect UI),
 * each sandbox consent page, and the items arriving in the stand-in's feed. The fault suite runs
 * it because it needs the built service (`npm run test:fault` builds it); the sandbox is built
 * here, after that build emptied dist/.
 */
describe.skipIf(!chromiumAvailable)(
  'npm run demo in Chromium: the stand-in PDeck and the Connect UI',
  () => {
    const pg = new PostgresInstance();
    const redis = new RedisInstance();
    let demo: ChildProcess | undefined;
    const output: string[] = [];
    let dataDir = '';
    let serviceUrl = '';
    let pdeckUrl = '';
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    const problems: string[] = [];

    beforeAll(async () => {
      execFileSync(
        process.execPath,
        [resolve('node_modules/typescript/bin/tsc'), '-p', 'sandbox/tsconfig.json'],
        {
          stdio: 'inherit',
        },
      );
      await Promise.all([pg.start(), redis.start()]);
      dataDir = await mkdtemp(join(tmpdir(), 'pdeck-demo-'));
      await mkdir(ARTIFACTS, { recursive: true });
      const [port, pdeckPort, google, trello, jira, slack, plugins] = await Promise.all(
        Array.from({ length: 7 }, () => freePort()),
      );
      serviceUrl = `http://localhost:${port}`;
      pdeckUrl = `http://localhost:${pdeckPort}`;
      demo = reapOnExit(
        spawn(process.execPath, ['scripts/demo.mjs'], {
          env: {
            PATH: process.env.PATH ?? '',
            HOME: process.env.HOME ?? '',
            PORT: String(port),
            DEMO_PDECK_PORT: String(pdeckPort),
            SANDBOX_PORT: String(google),
            SANDBOX_TRELLO_PORT: String(trello),
            SANDBOX_JIRA_PORT: String(jira),
            SANDBOX_SLACK_PORT: String(slack),
            // The Outlook Calendar plugin's fake (the demo loads that plugin by default).
            SANDBOX_PLUGINS_PORT: String(plugins),
            DATA_DIR: dataDir,
            DATABASE_URL: pg.url,
            REDIS_URL: redis.url,
            INTERNAL_API_TOKENS: TOKEN,
          },
          // Its own group: the service it starts is stopped with it, however the test ends.
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
      const group = demo.pid!;
      process.once('exit', () => killGroup(group, 'SIGKILL'));
      for (const stream of [demo.stdout!, demo.stderr!]) {
        createInterface({ input: stream }).on('line', (line) =>
          output.push(stripVTControlCharacters(line)),
        );
      }
      await eventually(
        () => {
          if (demo!.exitCode !== null) throw new Error(`the demo exited:\n${output.join('\n')}`);
          return output.some((l) => l.startsWith('PDeck demo ready')) ? true : undefined;
        },
        'the demo to print that it is ready',
        { timeoutMs: 90_000, everyMs: 100, debug: () => output.slice(-20) },
      );
      browser = await launchChromium();
      // A fixed viewport: the README's screenshot comes from this run.
      context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
      // Script errors and CSP refusals of every page the test opens, each with its URL.
      context.on('page', (p) => watchPage(p, { problems, withUrl: true }));
      page = await context.newPage();
    }, 180_000);

    afterAll(async () => {
      await browser?.close();
      if (demo?.pid && demo.exitCode === null) {
        const exited = new Promise((done) => demo!.once('exit', done));
        killGroup(demo.pid, 'SIGTERM');
        await Promise.race([exited, new Promise((done) => setTimeout(done, 20_000))]);
        killGroup(demo.pid, 'SIGKILL');
      }
      await Promise.all([pg.destroy(), redis.destroy()]);
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    async function api(method: string, path: string, body?: unknown) {
      const response = await fetch(`${serviceUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json().catch(() => null)) as any };
    }

    const connection = (provider: string) =>
      page.locator(`#connections li[data-provider="${provider}"]`);

    it('prints one short block: where to go, where the token is, how to stop', () => {
      const ready = output.findIndex((l) => l.startsWith('PDeck demo ready'));
      const block = output.slice(ready, ready + 6).join('\n');
      expect(block).toContain(`Open   ${pdeckUrl}`);
      expect(block).toContain('Token  the first of INTERNAL_API_TOKENS');
      expect(block).toContain('Stop   Ctrl+C');
      // No curl walkthrough in the console any more, and no token.
      expect(output.join('\n')).not.toContain('curl ');
      expect(output.join('\n')).not.toContain(TOKEN);
      // Development logs are readable lines, not JSON objects.
      expect(output.some((l) => /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: /.test(l))).toBe(true);
      expect(output.filter((l) => l.startsWith('{"level"'))).toEqual([]);
    });

    it('shows the signed-in user, an empty feed and no connection, accessibly', async () => {
      const response = await page.goto(pdeckUrl, { waitUntil: 'load' });
      expect(response?.status()).toBe(200);
      await expect(page.locator('header').textContent()).resolves.toMatch(
        /PDeck\s*\(demo\)\s*signed in as demo-user/,
      );
      await page.locator('#events li.empty').waitFor();
      await expect(page.locator('#no-connections').isVisible()).resolves.toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, 'demo-pdeck-empty.png'), fullPage: true });
      expect(await seriousViolations(page)).toEqual([]);
      expect(problems).toEqual([]);
    });

    it("refuses what is not PDeck's page: other content types, malformed grants", async () => {
      const post = (path: string, body: string, type = 'application/json') =>
        fetch(`${pdeckUrl}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
      expect(
        (await post('/connect-session', 'userId=x', 'application/x-www-form-urlencoded')).status,
      ).toBe(415);
      expect((await post('/confirm', '{"connectionId":"x","confirm":"y"}')).status).toBe(400);
      expect((await post('/confirm', '{not json')).status).toBe(400);
      const forged = await post(
        '/confirm',
        JSON.stringify({ connectionId: '00000000-0000-4000-8000-000000000000', confirm: 'forged' }),
      );
      expect(await forged.json()).toMatchObject({ confirmed: false });
    });

    let popup: Page;

    it('connects Google Calendar through the popup; its events arrive in the feed', async () => {
      [popup] = await Promise.all([
        page.waitForEvent('popup'),
        page.getByRole('button', { name: 'Manage integrations' }).click(),
      ]);
      await popup.getByRole('heading', { name: 'Your integrations', level: 1 }).waitFor();
      await connectIn('Google Calendar');
      await activeConnection('google-calendar');
      await page.locator('#events li[data-provider="google-calendar"]').first().waitFor({
        timeout: 30_000,
      });
      await expect(page.locator('#status').textContent()).resolves.toMatch(
        /Google Calendar .* is connected/,
      );
    });

    it('connects Trello and Slack the same way: their tasks and messages arrive', async () => {
      await connectIn('Trello');
      await activeConnection('trello');
      await page.locator('#tasks li[data-provider="trello"]').first().waitFor({ timeout: 30_000 });
      await connectIn('Slack');
      await activeConnection('slack');
      await page.locator('#messages li[data-provider="slack"]').first().waitFor({
        timeout: 30_000,
      });
    });

    it('connects Outlook Calendar, loaded as a plugin, the same way: its events arrive', async () => {
      await connectIn('Outlook Calendar');
      await activeConnection('outlook-calendar');
      await page.locator('#events li[data-provider="outlook-calendar"]').first().waitFor({
        timeout: 30_000,
      });
      // Named from its id on the stand-in page, which keeps no list of providers.
      await expect(
        page.locator('#connections li[data-provider="outlook-calendar"]').textContent(),
      ).resolves.toContain('Outlook Calendar');
    });

    it('connects Jira: alice reaches two sites, the popup asks which one, then it syncs', async () => {
      await connectIn('Jira Cloud');
      const picker = popup.locator('form.site-picker');
      await picker.waitFor({ timeout: 30_000 });
      await expect(page.locator('#status').textContent()).resolves.toContain('choose its site');
      await picker.getByRole('radio').first().check();
      await picker.getByRole('button', { name: 'Use this site' }).click();
      await activeConnection('jira');
      // The notice follows: the choice made in the popup replaces "choose its site".
      await page.getByText('site chosen; its first sync has started').waitFor({ timeout: 10_000 });
      await page.locator('#tasks li[data-provider="jira"]').first().waitFor({ timeout: 30_000 });
      // The README's picture of the Connect UI, at a fixed size (docs/images/connect-ui.png).
      await popup.setViewportSize({ width: 1000, height: 700 });
      await popup.screenshot({ path: join(ARTIFACTS, 'connect-ui.png') });
      await page.screenshot({ path: join(ARTIFACTS, 'demo-pdeck-feed.png'), fullPage: true });
      expect(await seriousViolations(page)).toEqual([]);
      // A phone's width: one column, nothing wider than the screen.
      await page.setViewportSize({ width: 375, height: 800 });
      await expect(
        page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'),
      ).resolves.toBe(true);
      expect(await seriousViolations(page)).toEqual([]);
      await page.screenshot({ path: join(ARTIFACTS, 'demo-pdeck-phone.png'), fullPage: true });
      await page.setViewportSize({ width: 1000, height: 700 });
    });

    it('shows the Jira issue its Trello card and Slack message mention once, under Merged', async () => {
      // The demo adds a Trello card and a #general message that link the first issue of the
      // site picked above (the first by name: acme-sandbox, ACME-1 "Homepage hero image").
      const entry = page.locator('#merged li[data-entry-id]', {
        has: page.locator('.source[data-provider="jira"]'),
      });
      await entry.first().waitFor({ timeout: 60_000 });
      await expect(entry.first().locator('.title').textContent()).resolves.toBe(
        'Homepage hero image',
      );
      await eventually(
        async () =>
          (await entry.first().locator('.source').allTextContents()).sort().join(',') ===
          'Jira,Slack,Trello'
            ? true
            : undefined,
        'the entry to list its three sources',
        { timeoutMs: 30_000, everyMs: 250 },
      );
      expect(Number(await entry.first().getAttribute('data-sources'))).toBe(3);
      // Title, status and due date from Jira, the system of record for tasks, with the reason.
      const facts = await entry.first().locator('.provenance').innerText();
      expect(facts).toMatch(/Title\s+from Jira: system of record for tasks \(jira\)/);
      expect(facts).toMatch(/Status\s+To Do from Jira: system of record for tasks \(jira\)/);
      expect(facts).toMatch(/Due\s+.+ from Jira: system of record for tasks \(jira\)/);

      // The service answers the same through its API: one entry, three members.
      const { status, body } = await api(
        'GET',
        '/v1/items?userId=demo-user&merged=true&limit=1000',
      );
      expect(status).toBe(200);
      const id = await entry.first().getAttribute('data-entry-id');
      const merged = body.entries.find((e: { id: string }) => e.id === id);
      expect(merged.members.map((m: { provider: string }) => m.provider).sort()).toEqual([
        'jira',
        'slack',
        'trello',
      ]);
      expect(merged.fields.title).toMatchObject({
        value: 'Homepage hero image',
        source: { provider: 'jira' },
      });
      await page.screenshot({ path: join(ARTIFACTS, 'demo-pdeck-merged.png'), fullPage: true });
      expect(await seriousViolations(page)).toEqual([]);
      expect(problems).toEqual([]);
    });

    it('Sync now in the popup starts a new run of that connection', async () => {
      const id = await connection('google-calendar').getAttribute('data-connection-id');
      const runs = async () =>
        (await api('GET', `/v1/connections/${id}/sync-runs`)).body as Array<{ status: string }>;
      const before = await eventually(
        async () => {
          const list = await runs();
          return list.every((r) => r.status !== 'queued' && r.status !== 'running')
            ? list.length
            : undefined;
        },
        'the first sync of Google Calendar to finish',
        { timeoutMs: 30_000, everyMs: 250 },
      );
      await card('Google Calendar')
        .getByRole('button', { name: /^Sync now/ })
        .click();
      await popup.getByRole('heading', { name: 'Your integrations', level: 1 }).waitFor();
      await expect(popup.locator('#notice').textContent()).resolves.toMatch(/\S/);
      await eventually(
        async () => ((await runs()).length > before ? true : undefined),
        'a new sync run',
        { timeoutMs: 30_000, everyMs: 250 },
      );
    });

    it('Disconnect, after its confirmation step, removes the connection from PDeck', async () => {
      await card('Trello')
        .getByRole('button', { name: /^Disconnect/ })
        .click();
      await popup.getByRole('heading', { name: 'Disconnect Trello?' }).waitFor();
      await popup.getByRole('button', { name: /^Yes, disconnect/ }).click();
      await popup.getByRole('heading', { name: 'Your integrations', level: 1 }).waitFor();
      await expect(card('Trello').count()).resolves.toBe(0);
      await connection('trello').waitFor({ state: 'detached', timeout: 10_000 });
      await expect(connection('google-calendar').count()).resolves.toBe(1);
      expect(problems).toEqual([]);
    });

    it('a used or expired connect link shows a clear page, not the integrations', async () => {
      const { body } = await api('POST', '/v1/connect-sessions', { userId: 'demo-user' });
      const first = await context.newPage();
      await first.goto(body.url);
      await first.getByRole('heading', { name: 'Your integrations', level: 1 }).waitFor();
      const again = await (await browser.newContext()).newPage();
      const reused = await again.goto(body.url);
      expect(reused?.status()).toBe(410);
      await expect(again.locator('h1').textContent()).resolves.toBe('This link has expired');
      expect(await seriousViolations(again)).toEqual([]);

      // A link nobody opened within its 30 minutes: its Redis entry lapses (as at the end of its TTL).
      const unopened = await api('POST', '/v1/connect-sessions', { userId: 'demo-user' });
      const client = new Redis(redis.url, { lazyConnect: true });
      await client.connect();
      try {
        const [key] = await client.keys('pdeck-demo:connect-ui:link:*');
        expect(key).toBeDefined();
        await client.pexpire(key, 1);
      } finally {
        await client.quit();
      }
      const expired = await (await browser.newContext()).newPage();
      expect((await expired.goto(unopened.body.url))?.status()).toBe(410);
      await expect(expired.locator('h1').textContent()).resolves.toBe('This link has expired');
      await Promise.all([first.close(), again.context().close(), expired.context().close()]);
    });

    /**
     * In the Connect UI popup: Connect <provider>, Allow on the sandbox consent page (its first
     * seeded account, alice), and back on the Connect UI once PDeck confirmed the grant.
     */
    async function connectIn(providerName: string): Promise<void> {
      await popup.getByRole('button', { name: `Connect ${providerName}` }).click();
      await popup.getByRole('button', { name: 'Allow' }).click();
      await popup.getByRole('heading', { name: 'Your integrations', level: 1 }).waitFor({
        timeout: 30_000,
      });
    }

    /** The stand-in lists the provider's connection as active (it polls every 2 s). */
    async function activeConnection(provider: string): Promise<void> {
      await page
        .locator(`#connections li[data-provider="${provider}"][data-status="active"]`)
        .waitFor({ timeout: 30_000 });
    }

    /** The Connect UI's card of one connection, by the provider's name in its heading. */
    function card(providerName: string) {
      return popup.locator('li.card[data-connection-id]', {
        has: popup.getByRole('heading', { name: new RegExp(`^${providerName}:`) }),
      });
    }
  },
);

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
