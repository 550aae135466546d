import {
  collect,
  isProviderError,
  PAGE_MAX_RESPONSE_BYTES,
  type Page,
  pages,
  type NormalizedItem,
  type ProviderContext,
  type SyncCursor,
  type SyncPage,
} from '@pdeck/integration-sdk';
import { jiraPath } from './jira.catalog.js';
import { jiraError } from './jira.errors.js';
import { callJira } from './jira.http.js';
import { keysIn, scopeHash, scopeJql, updatedSince } from './jira.jql.js';
import { ISSUE_FIELDS, jiraVersion, mapIssue } from './jira.mapper.js';
import type { JiraIssue, JiraSearchPage, JiraSite } from './jira.types.js';

/** Ids-only listing: Jira answers up to 5000 per page for id/key; `updated` is our version. */
export const ID_PAGE_SIZE = 1000;
/** Full issues per page; Jira may answer fewer (the page size is advisory). */
export const ISSUE_PAGE_SIZE = 100;
/** Changed issues read per `key in (...)` search. */
export const KEYS_PER_READ = 50;
/** How often the ids-only comparison runs: what left the scope or was deleted goes within this. */
export const RECONCILE_EVERY_MS = 6 * 3_600_000;

/**
 * The cursor of a site. Incremental: `watermark` (the newest `updated` seen) and `scope` (hash of
 * the JQL it belongs to). A full pass in progress adds `pageToken` (Jira's nextPageToken, valid
 * for 7 days) and `startedAt`; its last page sets `reconciledAt`.
 */
export interface JiraCursor {
  scope: string;
  watermark: string;
  reconciledAt?: string;
  pageToken?: string;
  startedAt?: string;
}

/** A full pass is due when the last ids-only comparison is older than RECONCILE_EVERY_MS. */
export function reconcileDue(cursor: SyncCursor, now: Date): boolean {
  const at = Date.parse(String((cursor as Partial<JiraCursor>).reconciledAt ?? ''));
  return !Number.isFinite(at) || now.getTime() - at >= RECONCILE_EVERY_MS;
}

/**
 * Full pass = the ids-only comparison: list the scope's ids with their `updated`, compare with
 * the versions we hold, read only what is new or changed (`key in (...)`), and report the rest
 * as seen; the engine's sweep then removes what Jira no longer lists (deleted, moved out of the
 * scope, no longer visible). The first pass of a connection holds nothing, so it reads every issue.
 */
export async function* fullPass(
  ctx: ProviderContext,
  site: JiraSite,
  cursor: SyncCursor | null,
): AsyncIterable<SyncPage> {
  const jql = scopeJql(ctx.settings);
  const scope = scopeHash(jql);
  const resumed = cursor as Partial<JiraCursor> | null;
  const first = resumed?.scope === scope ? resumed.pageToken : undefined;
  const startedAt = (first && resumed?.startedAt) || new Date().toISOString();
  const query = { jql: `(${jql}) ORDER BY id ASC`, fields: ['updated'], maxResults: ID_PAGE_SIZE };
  // One batch per page, the page itself: its next token goes into the cursor.
  const listing = pages<Page<JiraIssue>>(async (token) => {
    const page = await search(ctx, site, { ...query, resumed: token !== undefined }, token);
    return { items: [page], next: page.next };
  }, first);
  for await (const [{ items, next }] of listing) {
    const { upserts, seen } = await compare(ctx, site, items);
    if (next) {
      yield {
        upserts,
        deletions: [],
        seen,
        cursor: { scope, watermark: startedAt, startedAt, pageToken: next },
      };
      continue;
    }
    // Changes made while the pass ran are read by the next incremental run.
    const done: JiraCursor = {
      scope,
      watermark: startedAt,
      reconciledAt: new Date().toISOString(),
    };
    yield { upserts, deletions: [], seen, cursor: { ...done }, fullPassComplete: true };
  }
}

/**
 * Issues changed since the watermark, oldest first, so the watermark moves with each committed
 * page. A cursor of another scope (the override changed) cannot be continued: CURSOR_INVALID
 * makes the engine start a full pass of the new scope.
 */
export async function* incrementalPass(
  ctx: ProviderContext,
  site: JiraSite,
  cursor: SyncCursor | null,
): AsyncIterable<SyncPage> {
  const jql = scopeJql(ctx.settings);
  const stored = cursor as Partial<JiraCursor> | null;
  const since = Date.parse(String(stored?.watermark ?? ''));
  if (!stored || stored.scope !== scopeHash(jql) || !Number.isFinite(since)) {
    throw jiraError('CURSOR_INVALID', 'the sync scope changed', 'scope_changed');
  }
  let watermark = new Date(since).toISOString();
  const query = {
    jql: `(${jql}) AND ${updatedSince(new Date(since), new Date())} ORDER BY updated ASC`,
    fields: ISSUE_FIELDS,
    maxResults: ISSUE_PAGE_SIZE,
  };
  for await (const issues of pages((token) => search(ctx, site, query, token))) {
    for (const issue of issues) {
      const v = jiraVersion(issue.fields?.updated);
      if (v && v > watermark) watermark = v;
    }
    yield {
      upserts: mapAll(issues, site),
      deletions: [],
      cursor: { ...stored, scope: scopeHash(jql), watermark },
    };
  }
}

/** Splits a listing into reads of what changed and ids that are current here. */
async function compare(
  ctx: ProviderContext,
  site: JiraSite,
  listed: JiraIssue[],
): Promise<{ upserts: NormalizedItem[]; seen: Array<{ kind: 'task'; externalId: string }> }> {
  const known = ctx.knownVersions
    ? await ctx.knownVersions(
        'task',
        listed.map((i) => i.id!),
      )
    : new Map<string, string>();
  const seen: Array<{ kind: 'task'; externalId: string }> = [];
  const stale: string[] = [];
  for (const issue of listed) {
    const version = jiraVersion(issue.fields?.updated);
    if (version && known.get(issue.id!) === version)
      seen.push({ kind: 'task', externalId: issue.id! });
    else if (issue.key) stale.push(issue.key);
  }
  const upserts: NormalizedItem[] = [];
  for (let i = 0; i < stale.length; i += KEYS_PER_READ) {
    const jql = `${keysIn(stale.slice(i, i + KEYS_PER_READ))} ORDER BY id ASC`;
    const query = { jql, fields: ISSUE_FIELDS, maxResults: ISSUE_PAGE_SIZE };
    upserts.push(...mapAll(await collect((token) => search(ctx, site, query, token)), site));
  }
  return { upserts, seen };
}

interface SearchQuery {
  jql: string;
  fields: readonly string[];
  maxResults: number;
  /** The page token came from a stored cursor: its refusal restarts the pass instead of failing it. */
  resumed?: boolean;
}

/**
 * One page of the enhanced search, POST /rest/api/3/search/jql
 * (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/): the
 * old /search answers 410 Gone. `fields` is always named, since the default is ids only.
 */
async function search(
  ctx: ProviderContext,
  site: JiraSite,
  { resumed, ...query }: SearchQuery,
  nextPageToken?: string,
): Promise<Page<JiraIssue>> {
  try {
    const page = await callJira<JiraSearchPage>(ctx, {
      operation: 'search.jql',
      method: 'POST',
      path: `${jiraPath(site.cloudId)}/search/jql`,
      json: { ...query, ...(nextPageToken ? { nextPageToken } : {}) },
      maxResponseBytes: PAGE_MAX_RESPONSE_BYTES,
    });
    if (
      !page ||
      typeof page !== 'object' ||
      (page.issues !== undefined && !Array.isArray(page.issues))
    ) {
      throw jiraError('UNKNOWN', 'search answer has no issue list', 'unexpected_shape', {
        operation: 'search.jql',
      });
    }
    return { items: validIssues(page.issues), next: nextToken(page) };
  } catch (error) {
    // A page token lives 7 days: one stored by a pass that stalled longer is refused with 400.
    if (resumed && isProviderError(error) && error.status === 400) {
      throw jiraError('CURSOR_INVALID', 'stored page token refused', 'page_token_refused', {
        cause: error,
        status: 400,
      });
    }
    throw error;
  }
}

/** Stop on `isLast` or a missing token, whichever comes first (both happen on the last page). */
function nextToken(page: JiraSearchPage): string | undefined {
  if (page.isLast === true) return undefined;
  return typeof page.nextPageToken === 'string' && page.nextPageToken
    ? page.nextPageToken
    : undefined;
}

function validIssues(issues: JiraIssue[] | undefined): JiraIssue[] {
  return (issues ?? []).filter((i) => typeof i?.id === 'string' && i.id !== '');
}

function mapAll(issues: JiraIssue[], site: JiraSite): NormalizedItem[] {
  return issues.map((i) => mapIssue(i, site)).filter((i): i is NormalizedItem => i !== null);
}
