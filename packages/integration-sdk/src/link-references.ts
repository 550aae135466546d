import type { LinkEvidence } from './contract.js';

/**
 * The evidence keys several integrations share (one integration is a thing, others mention it),
 * and the scanner that finds mentions in free text. Keys are `<namespace>:<value>`; the link
 * detector compares them as opaque strings, so each key is built here and only here.
 */

/** A Jira issue on one site: `jira:<host>/<KEY>`, the host as in its browse URL. */
export function jiraIssueKey(host: string, issueKey: string): string {
  return `jira:${host.toLowerCase()}/${issueKey}`;
}

/** A bare Jira issue key, site unknown: `jira:<KEY>` (no `/`, so never equal to an issue key). */
export function jiraBareKey(issueKey: string): string {
  return `jira:${issueKey}`;
}

/** A Trello card by its shortLink: `trello:<shortLink>` (shortLinks are case-sensitive). */
export function trelloCardKey(shortLink: string): string {
  return `trello:${shortLink}`;
}

/**
 * A Jira issue key: the project key (a letter, then letters, digits or underscores: Jira's
 * default project key format,
 * https://support.atlassian.com/jira-cloud-administration/docs/edit-a-projects-details/), a hyphen
 * and the issue number without leading zeros.
 */
const ISSUE_KEY = /^[A-Z][A-Z0-9_]{1,49}-[1-9][0-9]{0,9}$/;

/**
 * A bare key in text, anchored on word boundaries: not preceded by a letter, digit, `_`, `-` or
 * `/`, not followed by a letter, digit, `_` or `-` + letter/digit (`ABC-123-fix`, `XABC-1` and
 * `ABC-12a` are not keys). `UTF-8` and `ISO-8601` have the shape; only the detector's rule that
 * a key counts when one of the user's Jira issues has exactly that key keeps them out.
 */
const BARE_KEY =
  /(?<![\p{L}\p{N}_\-/])([A-Z][A-Z0-9_]{1,49}-[1-9][0-9]{0,9})(?![\p{L}\p{N}_]|-[\p{L}\p{N}])/gu;

/**
 * http(s) URLs in text. Stops at whitespace, `<`, `>`, `|` (Slack's `<url|label>`), quotes and
 * brackets, so a URL written inside parentheses or markup ends where the markup starts.
 */
const URL_IN_TEXT = /https?:\/\/[^\s<>|"'`()[\]{}]+/gi;

/** A Jira browse path: `/browse/ABC-123` (https://support.atlassian.com/jira-software-cloud/docs/what-is-an-issue/). */
const BROWSE_PATH = /^\/browse\/([A-Z][A-Z0-9_]{1,49}-[1-9][0-9]{0,9})\/?$/;

/**
 * A Trello card path: `/c/<shortLink>` with an optional `/<number>-<slug>`, the form of a card's
 * `url` and `shortUrl` (https://developer.atlassian.com/cloud/trello/rest/api-group-cards/).
 */
const CARD_PATH = /^\/c\/([A-Za-z0-9]{6,24})(?:\/[^/]*)?\/?$/;
const TRELLO_HOSTS = new Set(['trello.com', 'www.trello.com']);

export function isIssueKey(value: unknown): value is string {
  return typeof value === 'string' && ISSUE_KEY.test(value);
}

/** The host of an absolute http(s) URL, lower case with its port; null when unreadable. */
export function hostOf(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.host : null;
  } catch {
    return null;
  }
}

export interface ReferenceScan {
  /**
   * Also count bare Jira keys (`ABC-123` outside any URL). A bare key that a Jira URL of the same
   * text already names is dropped: it is the same issue, said twice.
   */
  bareJiraKeys?: boolean;
}

/**
 * The things `texts` mention, as `reference` evidence: Jira browse URLs on any host, Trello card
 * URLs on trello.com, and (optionally) bare Jira keys. Unique keys, in order of appearance.
 */
export function referencesIn(
  texts: readonly (string | null | undefined)[],
  scan: ReferenceScan = {},
): LinkEvidence[] {
  const keys: string[] = [];
  const urlIssueKeys = new Set<string>();
  const withoutUrls: string[] = [];
  for (const text of texts) {
    if (!text) continue;
    for (const match of text.matchAll(URL_IN_TEXT)) {
      const found = referenceOfUrl(match[0]);
      if (!found) continue;
      keys.push(found.key);
      if (found.issueKey) urlIssueKeys.add(found.issueKey);
    }
    withoutUrls.push(text.replace(URL_IN_TEXT, ' '));
  }
  if (scan.bareJiraKeys) {
    for (const text of withoutUrls) {
      for (const match of text.matchAll(BARE_KEY)) {
        if (!urlIssueKeys.has(match[1])) keys.push(jiraBareKey(match[1]));
      }
    }
  }
  return [...new Set(keys)].map((key) => ({ key, role: 'reference' as const }));
}

function referenceOfUrl(text: string): { key: string; issueKey?: string } | null {
  let url: URL;
  try {
    // Slack escapes `&` as `&amp;` inside links; trailing sentence punctuation is not the URL's.
    url = new URL(text.replaceAll('&amp;', '&').replace(/[.,;:!?]+$/, ''));
  } catch {
    return null;
  }
  const browse = BROWSE_PATH.exec(url.pathname);
  if (browse) return { key: jiraIssueKey(url.host, browse[1]), issueKey: browse[1] };
  const card = TRELLO_HOSTS.has(url.hostname) ? CARD_PATH.exec(url.pathname) : null;
  if (card) return { key: trelloCardKey(card[1]) };
  return null;
}
