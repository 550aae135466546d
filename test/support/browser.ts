import { existsSync } from 'node:fs';
import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * What the Chromium tests share: the browser, how it is started, what counts as a page's
 * problem and the accessibility scan. Each test keeps its own pages, widths and exceptions.
 */

/** Debian's Chromium, which `.ci/run` installs; npm's browser downloads cannot reach us here. */
export const CHROMIUM = '/usr/bin/chromium';

/** Whether the browser tests can run here; in CI they must (scripts/ci-services.sh). */
export const chromiumAvailable = existsSync(CHROMIUM);
if (!chromiumAvailable && process.env.CI) {
  throw new Error(`${CHROMIUM} is missing: CI must run the browser tests (scripts/ci-services.sh)`);
}

/** Headless, without the sandbox (containers) and without any of Chromium's own traffic. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface WatchOptions {
  /** Where the problems go; a new list when absent. */
  problems?: string[];
  /** Prefix each problem with the URL the page was on (for a list shared by several pages). */
  withUrl?: boolean;
  /** Also report the service's sub-resources (not the page itself) that failed (status >= 400). */
  serviceUrl?: string;
  /** Also report every request that leaves serviceUrl (data: URLs aside). */
  serviceOnly?: boolean;
}

/**
 * Script errors and CSP refusals (console errors, uncaught exceptions) of a page, and what the
 * options add. "Failed to load resource" lines are left to the response checks, which name the
 * URL. Returns the list the problems are pushed to.
 */
export function watchPage(page: Page, options: WatchOptions = {}): string[] {
  const problems = options.problems ?? [];
  const { serviceUrl } = options;
  const add = (text: string): void => {
    problems.push(options.withUrl ? `${page.url()}: ${text}` : text);
  };
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) add(m.text());
  });
  page.on('pageerror', (e) => add(e.message));
  if (serviceUrl && options.serviceOnly) {
    page.on('request', (r) => {
      if (!r.url().startsWith(serviceUrl) && !r.url().startsWith('data:')) {
        add(`remote request ${r.url()}`);
      }
    });
  }
  if (serviceUrl) {
    page.on('response', (r) => {
      const sub = r.request().resourceType() !== 'document';
      if (sub && r.status() >= 400 && r.url().startsWith(serviceUrl)) {
        add(`${r.status()} ${r.url()}`);
      }
    });
  }
  return problems;
}

/** axe's WCAG 2.1 A/AA rules on the page as it is now. */
export async function wcagScan(page: Page) {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return result.violations;
}

/** Serious and critical WCAG 2.1 A/AA violations, one line each with the nodes they are on. */
export async function seriousViolations(page: Page): Promise<string[]> {
  return (await wcagScan(page))
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
