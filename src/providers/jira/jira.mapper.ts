import { type ItemDeletion, type NormalizedItem, normalizedItem } from '@pdeck/integration-sdk';
import { adfToText } from './jira.adf.js';
import type { JiraIssue, JiraIssueFields, JiraSite, JiraStatus, JiraUser } from './jira.types.js';

/**
 * The fields every issue search names. `POST /rest/api/3/search/jql` answers only `id` unless
 * fields are named (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/),
 * so this list is what mapIssue can see: a field it reads must be listed here.
 */
export const ISSUE_FIELDS: (keyof JiraIssueFields)[] = [
  'summary',
  'description',
  'status',
  'duedate',
  'assignee',
  'reporter',
  'labels',
  'priority',
  'issuetype',
  'project',
  'parent',
  'created',
  'updated',
  'resolutiondate',
];

/** Sorts below every real version: an issue without a readable `updated` (never seen). */
export const MIN_VERSION = '0000-01-01T00:00:00.000Z';

/** The status of an issue whose status category is "done", whatever its workflow calls it. */
export const COMPLETED_STATUS = 'completed';

/**
 * Jira's timestamps: `2026-03-04T10:21:33.512+0000`, an offset without a colon (the REST API's
 * format); `+00:00`, `Z` and a missing fraction are accepted too. A time without an offset is
 * refused: reading it in this server's zone would be a guess.
 */
const JIRA_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:?\d{2})$/;

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * An issue timestamp as a fixed-width version: the instant as `Date.toISOString()` (UTC, with
 * milliseconds, 24 characters for years 0000-9999), so byte order (the store compares versions
 * with COLLATE "C") is time order. Undefined when unreadable or outside those years.
 */
export function jiraVersion(updated: unknown): string | undefined {
  const at = jiraInstant(updated);
  if (!at) return undefined;
  const year = at.getUTCFullYear();
  return year >= 0 && year <= 9999 ? at.toISOString() : undefined;
}

/**
 * An issue as a task item; null without an id (the API always sends one).
 *
 * Keyed by the issue id, not the key: a key changes when the issue moves to another project, the
 * id does not. Ids are unique within a site, which is enough because a connection syncs exactly
 * one site. The container is that site, the sync resource: the engine sweeps and retires items
 * per container id. Its name is the project's, which is what Jira users recognise.
 */
export function mapIssue(issue: JiraIssue, site: JiraSite): NormalizedItem | null {
  if (typeof issue?.id !== 'string' || issue.id === '') return null;
  const f: JiraIssueFields = isObject(issue.fields) ? issue.fields : {};
  const key = str(issue.key);
  const version = jiraVersion(f.updated);
  const assignee = user(f.assignee);
  return normalizedItem({
    kind: 'task',
    externalId: issue.id,
    externalVersion: version ?? MIN_VERSION,
    containerId: site.cloudId,
    containerName: str(f.project?.name) ?? str(f.project?.key) ?? str(site.name),
    title: str(f.summary),
    body: adfToText(f.description),
    status: issueStatus(f.status),
    dueAt: calendarDate(f.duedate),
    url: key ? `${site.url.replace(/\/+$/, '')}/browse/${encodeURIComponent(key)}` : null,
    assignees: assignee ? [assignee.displayName ?? assignee.accountId] : [],
    labels: labelsOf(f.labels),
    externalUpdatedAt: version ? new Date(version) : null,
    raw: {
      id: issue.id,
      key,
      project: isObject(f.project)
        ? { id: str(f.project.id), key: str(f.project.key), name: str(f.project.name) }
        : null,
      issueType: str(f.issuetype?.name),
      priority: str(f.priority?.name),
      status: isObject(f.status)
        ? { name: str(f.status.name), category: str(f.status.statusCategory?.key) }
        : null,
      // Account id and name only: never the email address Jira may include.
      assignee,
      reporter: user(f.reporter),
      // The due date is a calendar date without a zone; dueAt is its UTC midnight, this the date.
      dueDate: str(f.duedate),
      parentKey: str(f.parent?.key),
      resolutionDate: jiraVersion(f.resolutiondate) ?? null,
      created: jiraVersion(f.created) ?? null,
    },
  });
}

/**
 * Status rule: `completed` when the status belongs to the "done" category, so every workflow's
 * final statuses ("Done", "Closed", "Won't do") read alike; otherwise the status name as Jira
 * shows it ("In Progress"); null without one. The name and category key stay in `raw.status`.
 *
 * The reference documents `statusCategory.key` but not its values
 * (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-workflow-status-categories/):
 * that the done category's key is `done` is UNCONFIRMED there. Only that key is relied on, and
 * any other reads as "not done": an unexpected key shows an open issue, never a false completion.
 */
export function issueStatus(status: JiraStatus | null | undefined): string | null {
  if (!isObject(status)) return null;
  if (status.statusCategory?.key === 'done') return COMPLETED_STATUS;
  return typeof status.name === 'string' && status.name.trim() !== '' ? status.name.trim() : null;
}

/**
 * A deleted issue. `at` is the webhook delivery's `timestamp` (epoch milliseconds, Jira's
 * clock), so a late upsert of an older state cannot revive the issue; without it the deletion is
 * unversioned (unconditional).
 */
export function issueDeletion(issueId: string, at?: number): ItemDeletion {
  const deletion: ItemDeletion = { kind: 'task', externalId: issueId };
  if (typeof at === 'number' && Number.isFinite(at)) {
    const when = new Date(at);
    const year = when.getUTCFullYear();
    if (year >= 0 && year <= 9999) deletion.externalVersion = when.toISOString();
  }
  return deletion;
}

/**
 * Whether a payload's issue carries enough to be mapped without reading it again: summary,
 * status and updated (the version). A webhook may send only some fields; mapping a partial issue
 * would blank the rest of the stored item.
 */
export function hasFullFields(issue: JiraIssue): boolean {
  const f = issue?.fields;
  if (!isObject(f)) return false;
  return (
    typeof f.summary === 'string' && isObject(f.status) && jiraVersion(f.updated) !== undefined
  );
}

/** A Jira timestamp as an instant, or null (see JIRA_TIME). */
function jiraInstant(value: unknown): Date | null {
  const m = typeof value === 'string' ? JIRA_TIME.exec(value) : null;
  if (!m) return null;
  const wall = utcDate(Number(m[1]), Number(m[2]), Number(m[3]));
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6])];
  if (!wall || hour > 23 || minute > 59 || second > 59) return null;
  // Fractions beyond milliseconds are cut, not rounded: the same text is always the same version.
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const zone = m[8];
  let offset = 0;
  if (zone.toUpperCase() !== 'Z') {
    const digits = zone.replace(':', '');
    const [h, min] = [Number(digits.slice(1, 3)), Number(digits.slice(3, 5))];
    if (h > 23 || min > 59) return null;
    offset = (zone.startsWith('-') ? -1 : 1) * (h * 60 + min) * 60_000;
  }
  return new Date(wall.getTime() + ((hour * 60 + minute) * 60 + second) * 1000 + ms - offset);
}

/** A `yyyy-MM-dd` due date as that calendar date at 00:00 UTC; null when absent or invalid. */
function calendarDate(value: unknown): Date | null {
  const m = typeof value === 'string' ? DATE_ONLY.exec(value) : null;
  return m ? utcDate(Number(m[1]), Number(m[2]), Number(m[3])) : null;
}

/** UTC midnight of a calendar date; null for a date that does not exist (no roll-over). */
function utcDate(year: number, month: number, day: number): Date | null {
  const at = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  at.setUTCFullYear(year, month - 1, day);
  // An overflowing day or month (Feb 30, month 13) rolls into another month: refused.
  return at.getUTCFullYear() === year && at.getUTCMonth() === month - 1 ? at : null;
}

function user(value: JiraUser | null | undefined): {
  accountId: string;
  displayName: string | null;
} | null {
  const accountId = isObject(value) ? str(value.accountId) : null;
  return accountId ? { accountId, displayName: str(value?.displayName) } : null;
}

/** Jira's labels, unique, in their order (labels are case-sensitive in Jira). */
function labelsOf(labels: unknown): string[] {
  if (!Array.isArray(labels)) return [];
  return [...new Set(labels.filter((l): l is string => typeof l === 'string' && l !== ''))];
}

function isObject<T>(value: T): value is NonNullable<T> & object {
  return typeof value === 'object' && value !== null;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
