import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isNewerVersion } from '../../items/item-page-input.js';
import {
  COMPLETED_STATUS,
  hasFullFields,
  ISSUE_FIELDS,
  issueDeletion,
  issueStatus,
  jiraVersion,
  mapIssue,
  MIN_VERSION,
} from './jira.mapper.js';
import type { JiraIssue, JiraIssueFields, JiraSite } from './jira.types.js';

/**
 * An issue as `POST /rest/api/3/search/jql` and `GET /rest/api/3/issue/{id}` return it with the
 * fields named (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/),
 * taken from the sandbox fake's richest seeded issue; made-up values.
 */
const ISSUE = JSON.parse(
  readFileSync(new URL('./fixtures/issue-full.json', import.meta.url), 'utf8'),
) as JiraIssue;

const SITE: JiraSite = {
  cloudId: '1324a887-45db-1bf4-1e99-ef0ff456d421',
  url: 'https://pdeck.atlassian.net',
  name: 'pdeck',
};

/** The fixture with some fields replaced (undefined removes a field). */
function withFields(fields: Partial<Record<keyof JiraIssueFields, unknown>>): JiraIssue {
  return { ...ISSUE, fields: { ...ISSUE.fields, ...fields } as JiraIssueFields };
}

describe('mapIssue', () => {
  it('maps the documented issue shape to a task item', () => {
    expect(mapIssue(ISSUE, SITE)).toEqual({
      kind: 'task',
      externalId: '10000',
      externalVersion: '2026-03-04T10:21:33.512Z',
      containerId: SITE.cloudId,
      containerName: 'PDeck',
      title: 'Checkout button unresponsive',
      body: [
        'Steps: open the deck, press Save.',
        '',
        '- Chrome 131',
        '- Firefox 133',
        '',
        'See the runbook (https://pdeck.atlassian.net/wiki/runbook), cc @Bob Builder',
      ].join('\n'),
      status: 'In Progress',
      startsAt: null,
      endsAt: null,
      allDay: false,
      dueAt: new Date('2026-03-07T00:00:00.000Z'),
      url: 'https://pdeck.atlassian.net/browse/PD-1',
      assignees: ['Alice Example'],
      labels: ['frontend'],
      author: null,
      externalUpdatedAt: new Date('2026-03-04T10:21:33.512Z'),
      raw: {
        id: '10000',
        key: 'PD-1',
        project: { id: '10000', key: 'PD', name: 'PDeck' },
        issueType: 'Bug',
        priority: 'High',
        status: { name: 'In Progress', category: 'indeterminate' },
        assignee: { accountId: '5b10ac8d82e05b22cc7d4ef5', displayName: 'Alice Example' },
        reporter: { accountId: '5b10a2844c20165700ede21g', displayName: 'Bob Builder' },
        dueDate: '2026-03-07',
        parentKey: 'PD-40',
        resolutionDate: null,
        created: '2026-02-28T06:21:33.512Z',
      },
    });
  });

  it('keeps no email address (the fixture has them on assignee and reporter)', () => {
    expect(JSON.stringify(ISSUE)).toContain('@example.com');
    expect(JSON.stringify(mapIssue(ISSUE, SITE))).not.toContain('@example.com');
  });

  it('keys items by issue id, which survives a move to another project (a new key)', () => {
    expect(mapIssue(ISSUE, SITE)!.externalId).toBe('10000');
    expect(mapIssue({ ...ISSUE, key: 'OPS-7' }, SITE)!.externalId).toBe('10000');
  });

  it('returns null without a string id', () => {
    expect(mapIssue({ ...ISSUE, id: undefined }, SITE)).toBeNull();
    expect(mapIssue({ ...ISSUE, id: '' }, SITE)).toBeNull();
    expect(mapIssue({ ...ISSUE, id: 10000 as unknown as string }, SITE)).toBeNull();
  });

  it('maps an issue without fields to an empty item at the lowest version', () => {
    for (const issue of [{ id: '7' }, { id: '7', fields: null as unknown as JiraIssueFields }]) {
      expect(mapIssue(issue, SITE)).toEqual({
        kind: 'task',
        externalId: '7',
        externalVersion: MIN_VERSION,
        containerId: SITE.cloudId,
        containerName: 'pdeck',
        title: null,
        body: null,
        status: null,
        startsAt: null,
        endsAt: null,
        allDay: false,
        dueAt: null,
        url: null,
        assignees: [],
        labels: [],
        author: null,
        externalUpdatedAt: null,
        raw: {
          id: '7',
          key: null,
          project: null,
          issueType: null,
          priority: null,
          status: null,
          assignee: null,
          reporter: null,
          dueDate: null,
          parentKey: null,
          resolutionDate: null,
          created: null,
        },
      });
    }
  });

  it('maps null fields (as Jira sends them) like absent ones', () => {
    const item = mapIssue(
      withFields({
        description: null,
        status: null,
        duedate: null,
        assignee: null,
        reporter: null,
        labels: null,
        priority: null,
        parent: null,
        updated: null,
      }),
      SITE,
    )!;
    expect(item).toMatchObject({
      body: null,
      status: null,
      dueAt: null,
      assignees: [],
      labels: [],
      author: null,
      externalVersion: MIN_VERSION,
      externalUpdatedAt: null,
    });
    expect(item.raw).toMatchObject({
      assignee: null,
      reporter: null,
      parentKey: null,
      dueDate: null,
    });
  });

  it('takes a description given as a plain string as is', () => {
    const item = mapIssue(withFields({ description: 'Plain *v2* text\nline 2' }), SITE)!;
    expect(item.body).toBe('Plain *v2* text\nline 2');
  });

  it('names the container after the project, else its key, else the site', () => {
    const name = (project: unknown) => mapIssue(withFields({ project }), SITE)!.containerName;
    expect(name({ id: '1', key: 'PD', name: 'PDeck' })).toBe('PDeck');
    expect(name({ id: '1', key: 'PD' })).toBe('PD');
    expect(name(undefined)).toBe('pdeck');
    // Whatever the project, the container is the site (the sync resource).
    expect(mapIssue(withFields({ project: { key: 'OPS' } }), SITE)!.containerId).toBe(SITE.cloudId);
  });

  it('links to the issue on the site, not the API gateway; no key, no link', () => {
    const slash = { ...SITE, url: 'https://pdeck.atlassian.net/' };
    expect(mapIssue(ISSUE, slash)!.url).toBe('https://pdeck.atlassian.net/browse/PD-1');
    expect(mapIssue({ ...ISSUE, key: undefined }, SITE)!.url).toBeNull();
  });

  it('lists the assignee by display name, else account id', () => {
    const assignees = (assignee: unknown) => mapIssue(withFields({ assignee }), SITE)!.assignees;
    expect(assignees({ accountId: 'acc-1', displayName: 'Ana' })).toEqual(['Ana']);
    expect(assignees({ accountId: 'acc-1' })).toEqual(['acc-1']);
    expect(assignees({ displayName: 'No id' })).toEqual([]);
    expect(assignees(null)).toEqual([]);
  });

  it('keeps unique label strings in order', () => {
    const item = mapIssue(withFields({ labels: ['b', 'a', 'b', '', 3, null, 'A'] }), SITE)!;
    expect(item.labels).toEqual(['b', 'a', 'A']);
  });
});

describe('status rule', () => {
  it('is completed for any status of the done category, whatever its name', () => {
    const done = { name: 'Closed', statusCategory: { id: 3, key: 'done', name: 'Done' } };
    const item = mapIssue(withFields({ status: done }), SITE)!;
    expect(item.status).toBe(COMPLETED_STATUS);
    expect(COMPLETED_STATUS).toBe('completed');
    expect(item.raw).toMatchObject({ status: { name: 'Closed', category: 'done' } });
  });

  it('is the status name otherwise, and null without one', () => {
    expect(issueStatus({ name: ' In Review ', statusCategory: { key: 'indeterminate' } })).toBe(
      'In Review',
    );
    expect(issueStatus({ name: 'To Do', statusCategory: { key: 'new' } })).toBe('To Do');
    expect(issueStatus({ name: 'Backlog' })).toBe('Backlog');
    expect(issueStatus({ statusCategory: { key: 'new' } })).toBeNull();
    expect(issueStatus({ name: '  ' })).toBeNull();
    expect(issueStatus(null)).toBeNull();
    expect(issueStatus(undefined)).toBeNull();
    // A category only named "Done" is not the done category: the key decides.
    expect(issueStatus({ name: 'Done-ish', statusCategory: { key: 'x', name: 'Done' } })).toBe(
      'Done-ish',
    );
  });
});

describe('due date', () => {
  const dueOf = (duedate: unknown) => mapIssue(withFields({ duedate }), SITE)!;

  it('is the calendar date at 00:00 UTC, the original kept in raw.dueDate', () => {
    const item = dueOf('2026-12-31');
    expect(item.dueAt).toEqual(new Date('2026-12-31T00:00:00.000Z'));
    expect(item.allDay).toBe(false);
    expect(item.raw).toMatchObject({ dueDate: '2026-12-31' });
    expect(dueOf('2028-02-29').dueAt).toEqual(new Date('2028-02-29T00:00:00.000Z'));
    expect(dueOf('0050-06-01').dueAt!.toISOString()).toBe('0050-06-01T00:00:00.000Z');
  });

  it('is null when absent or not a real yyyy-MM-dd date', () => {
    for (const bad of [undefined, null, '', '2026-02-30', '2027-02-29', '2026-13-01', '2026-3-7']) {
      expect(dueOf(bad).dueAt, String(bad)).toBeNull();
    }
    for (const bad of ['07/03/2026', '2026-03-07T00:00:00Z', 20260307]) {
      expect(dueOf(bad).dueAt, String(bad)).toBeNull();
    }
  });
});

describe('jiraVersion', () => {
  it('reads every offset form as the same UTC instant with milliseconds', () => {
    const same = '2026-03-04T10:21:33.512Z';
    expect(jiraVersion('2026-03-04T10:21:33.512+0000')).toBe(same);
    expect(jiraVersion('2026-03-04T10:21:33.512+00:00')).toBe(same);
    expect(jiraVersion('2026-03-04T10:21:33.512Z')).toBe(same);
    expect(jiraVersion('2026-03-04T11:21:33.512+0100')).toBe(same);
    expect(jiraVersion('2026-03-04T15:51:33.512+05:30')).toBe(same);
    expect(jiraVersion('2026-03-04T02:21:33.512-0800')).toBe(same);
    expect(jiraVersion('2026-03-04T10:21:33+0000')).toBe('2026-03-04T10:21:33.000Z');
    expect(jiraVersion('2026-03-04T10:21:33.5+0000')).toBe('2026-03-04T10:21:33.500Z');
    // Fractions finer than a millisecond are cut, never rounded up into the next millisecond.
    expect(jiraVersion('2026-03-04T10:21:33.512999+0000')).toBe(same);
  });

  it('crosses day and year boundaries through the offset', () => {
    expect(jiraVersion('2026-01-01T00:30:00.000+0100')).toBe('2025-12-31T23:30:00.000Z');
    expect(jiraVersion('2025-12-31T23:30:00.000-0100')).toBe('2026-01-01T00:30:00.000Z');
  });

  it('is undefined for unreadable values and instants outside years 0000-9999', () => {
    const bad: unknown[] = [
      undefined,
      null,
      '',
      1772619693512,
      'yesterday',
      '2026-03-04',
      '2026-03-04T10:21:33.512', // no offset: the zone would be a guess
      '2026-03-04 10:21:33.512+0000',
      '2026-02-30T10:21:33.512+0000',
      '2026-03-04T24:00:00.000+0000',
      '2026-03-04T10:60:00.000+0000',
      '2026-03-04T10:21:60.000+0000',
      '2026-03-04T10:21:33.512+2400',
      '2026-03-04T10:21:33.512+0060',
      '2026-03-04T10:21:33.512+000',
      '0000-01-01T00:30:00.000+0100',
      '9999-12-31T23:30:00.000-0100',
    ];
    for (const value of bad) expect(jiraVersion(value), String(value)).toBeUndefined();
    expect(jiraVersion('0000-01-01T00:00:00.000+0000')).toBe(MIN_VERSION);
    expect(jiraVersion('9999-12-31T23:59:59.999+0000')).toBe('9999-12-31T23:59:59.999Z');
  });

  it('gives fixed-width versions whose byte order is time order, whatever the input form', () => {
    const inputs = [
      '2026-03-04T10:21:33.512+0000',
      '2026-03-04T09:00:00-0300', // 12:00Z, later
      '2026-03-04T10:21:33.6Z', // later than the first by 88 ms
      '2026-03-04T11:21:33.511+01:00', // 1 ms before the first
    ];
    const versions = inputs.map((t) => jiraVersion(t)!);
    expect(versions.every((v) => v.length === 24)).toBe(true);
    const byBytes = [...versions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const byTime = [...versions].sort((a, b) => Date.parse(a) - Date.parse(b));
    expect(byBytes).toEqual(byTime);
    expect(byBytes).toEqual([versions[3], versions[0], versions[2], versions[1]]);
    expect(isNewerVersion(versions[0], MIN_VERSION)).toBe(true);
  });
});

describe('issueDeletion', () => {
  it('is versioned by the delivery timestamp (epoch ms) as an ISO instant', () => {
    const at = Date.UTC(2026, 2, 4, 10, 21, 34, 7);
    expect(issueDeletion('10000', at)).toEqual({
      kind: 'task',
      externalId: mapIssue(ISSUE, SITE)!.externalId,
      externalVersion: '2026-03-04T10:21:34.007Z',
    });
    // A deletion after the last update outranks the stored state.
    const deletion = issueDeletion('10000', at);
    expect(isNewerVersion(deletion.externalVersion!, mapIssue(ISSUE, SITE)!.externalVersion)).toBe(
      true,
    );
  });

  it('is unversioned without a usable timestamp', () => {
    for (const at of [undefined, NaN, Infinity, -Infinity, 1e20]) {
      const deletion = issueDeletion('10000', at);
      expect(deletion, String(at)).toEqual({ kind: 'task', externalId: '10000' });
      expect('externalVersion' in deletion).toBe(false);
    }
  });
});

describe('hasFullFields', () => {
  it('is true for an issue with summary, status and a readable updated', () => {
    expect(hasFullFields(ISSUE)).toBe(true);
    const minimal = {
      id: '1',
      fields: { summary: 'x', status: { name: 'To Do' }, updated: '2026-03-04T10:21:33+0000' },
    };
    expect(hasFullFields(minimal)).toBe(true);
  });

  it('is false when any of them is missing or unusable', () => {
    expect(hasFullFields({ id: '1' })).toBe(false);
    expect(hasFullFields({ id: '1', fields: null as unknown as JiraIssueFields })).toBe(false);
    expect(hasFullFields(withFields({ summary: undefined }))).toBe(false);
    expect(hasFullFields(withFields({ status: undefined }))).toBe(false);
    expect(hasFullFields(withFields({ status: null }))).toBe(false);
    expect(hasFullFields(withFields({ updated: undefined }))).toBe(false);
    expect(hasFullFields(withFields({ updated: 'soon' }))).toBe(false);
  });
});

describe('ISSUE_FIELDS', () => {
  it('names every field mapIssue reads (a search answers only the fields it names)', () => {
    const read = new Set<string>();
    const fields = new Proxy(ISSUE.fields as Record<string, unknown>, {
      get(target, prop, receiver) {
        if (typeof prop === 'string') read.add(prop);
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    mapIssue({ ...ISSUE, fields: fields as JiraIssueFields }, SITE);
    expect(read.size).toBeGreaterThan(10);
    expect([...read].filter((f) => !(ISSUE_FIELDS as string[]).includes(f))).toEqual([]);
  });

  it('has no duplicates', () => {
    expect(new Set(ISSUE_FIELDS).size).toBe(ISSUE_FIELDS.length);
  });
});
