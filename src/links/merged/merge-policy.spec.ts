import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config/load-config.js';
import { parseMergePolicy } from '../../core/config/merge-policy-config.js';
import {
  DEFAULT_MERGE_POLICY,
  type MergeKind,
  type MergeMember,
  mergeMembers,
  resolveMergePolicy,
} from './merge-policy.js';

let counter = 0;
function member(
  overrides: Partial<MergeMember> & { provider: string; kind: MergeKind },
): MergeMember {
  counter += 1;
  return {
    id: `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`,
    connectionId: `c-${overrides.provider}`,
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
    externalUpdatedAt: null,
    updatedAt: '2026-12-01T00:00:00.000Z',
    ...overrides,
  };
}

const at = (day: number, hour = 0) => new Date(Date.UTC(2026, 11, day, hour)).toISOString();

describe('merge policy: tasks', () => {
  const jira = member({
    provider: 'jira',
    kind: 'task',
    title: 'PD-1 Checkout button unresponsive',
    status: 'In Progress',
    dueAt: at(10),
    url: 'https://pdeck.atlassian.net/browse/PD-1',
    assignees: ['alice@example.com'],
    labels: ['frontend'],
    externalUpdatedAt: at(1),
  });
  const trello = member({
    provider: 'trello',
    kind: 'task',
    title: 'Checkout button',
    status: 'Doing',
    dueAt: at(12),
    assignees: ['Alice@example.com', 'bob@example.com'],
    labels: ['Bug'],
    externalUpdatedAt: at(5),
  });
  const slack = member({
    provider: 'slack',
    kind: 'message',
    title: 'Anyone looking at PD-1?',
    body: 'Anyone looking at https://pdeck.atlassian.net/browse/PD-1 ?',
    externalUpdatedAt: at(6),
  });

  it('takes title, status and due date from the system of record, even when older', () => {
    const merged = mergeMembers([slack, trello, jira]);
    expect(merged.kind).toBe('task');
    expect(merged.fields.title).toEqual({
      value: 'PD-1 Checkout button unresponsive',
      source: { itemId: jira.id, provider: 'jira' },
      reason: 'system of record for tasks (jira)',
    });
    expect(merged.fields.status.value).toBe('In Progress');
    expect(merged.fields.status.source?.provider).toBe('jira');
    expect(merged.fields.dueAt.value).toBe(at(10));
    expect(merged.conflicts).toEqual([]);
  });

  it('without Jira, Trello is the system of record; Slack comes last', () => {
    const merged = mergeMembers([slack, trello]);
    expect(merged.fields.title.source?.provider).toBe('trello');
    expect(merged.fields.dueAt.value).toBe(at(12));
    expect(mergeMembers([slack]).fields.title.source?.provider).toBe('slack');
  });

  it('falls back to the next source when the first is empty, and says so', () => {
    const merged = mergeMembers([jira, trello, slack]);
    expect(merged.fields.body).toEqual({
      value: slack.body,
      source: { itemId: slack.id, provider: 'slack' },
      reason: 'fallback: empty in jira, trello; system of record for tasks (slack)',
    });
    const noDue = member({ provider: 'jira', kind: 'task', title: 'x', dueAt: '  ' as string });
    const fallback = mergeMembers([noDue, trello]);
    expect(fallback.fields.dueAt).toEqual({
      value: at(12),
      source: { itemId: trello.id, provider: 'trello' },
      reason: 'fallback: empty in jira; system of record for tasks (trello)',
    });
  });

  it('reports a field empty everywhere with no source', () => {
    expect(mergeMembers([jira, trello]).fields.startsAt).toEqual({
      value: null,
      source: null,
      reason: 'empty in every source',
    });
  });

  it('unions assignees and labels, once each whatever the case', () => {
    const merged = mergeMembers([trello, jira, slack]);
    expect(merged.fields.assignees.value).toEqual(['Alice@example.com', 'bob@example.com']);
    expect(merged.fields.assignees.sources.map((s) => s.provider).sort()).toEqual([
      'jira',
      'trello',
    ]);
    expect(merged.fields.labels.value).toEqual(['Bug', 'frontend']);
    expect(merged.fields.labels.reason).toBe('union of every source');
  });

  it('two systems of record of equal rank that disagree: the most recent value, and a conflict', () => {
    const siteA = member({
      provider: 'jira',
      kind: 'task',
      title: 'A',
      status: 'Done',
      dueAt: at(10),
      externalUpdatedAt: at(2),
    });
    const siteB = member({
      provider: 'jira',
      kind: 'task',
      title: 'B',
      status: 'Done',
      dueAt: at(14),
      externalUpdatedAt: at(3),
    });
    const merged = mergeMembers([siteA, siteB, trello]);
    expect(merged.fields.dueAt).toEqual({
      value: at(14),
      source: { itemId: siteB.id, provider: 'jira' },
      reason: 'conflict: most recent of 2 systems of record (jira)',
    });
    // Same status on both: no conflict there; titles never conflict.
    expect(merged.fields.status.reason).toBe('system of record for tasks (jira), most recent of 2');
    expect(merged.conflicts).toEqual([
      {
        field: 'dueAt',
        values: [
          { value: at(10), itemId: siteA.id, provider: 'jira' },
          { value: at(14), itemId: siteB.id, provider: 'jira' },
        ].sort((a, b) => (a.itemId < b.itemId ? -1 : 1)),
        reason: '2 systems of record (jira) disagree; the most recent is shown',
      },
    ]);
  });

  it('the same instant written differently is no conflict', () => {
    const a = member({ provider: 'jira', kind: 'task', dueAt: '2026-12-10T00:00:00Z' });
    const b = member({ provider: 'jira', kind: 'task', dueAt: '2026-12-10T01:00:00+01:00' });
    expect(mergeMembers([a, b]).conflicts).toEqual([]);
  });

  it('members of lower rank never conflict with the system of record', () => {
    const other = member({ provider: 'trello', kind: 'task', status: 'Done', dueAt: at(20) });
    expect(mergeMembers([jira, other, trello]).conflicts).toEqual([]);
  });
});

describe('merge policy: events', () => {
  const organizerCopy = member({
    provider: 'google-calendar',
    kind: 'event',
    title: 'Sprint planning',
    status: 'confirmed',
    startsAt: at(3, 9),
    endsAt: at(3, 10),
    accountEmail: 'ana@example.com',
    organizer: { email: 'ana@example.com' },
    externalUpdatedAt: at(1),
  });
  const attendeeCopy = member({
    provider: 'google-calendar',
    kind: 'event',
    title: 'Sprint planning (moved?)',
    status: 'confirmed',
    startsAt: at(3, 11),
    endsAt: at(3, 12),
    allDay: false,
    accountEmail: 'ana.private@example.com',
    organizer: { email: 'ana@example.com' },
    externalUpdatedAt: at(2),
  });

  it("takes times and title from the organizer's calendar, even when older", () => {
    const merged = mergeMembers([attendeeCopy, organizerCopy]);
    expect(merged.kind).toBe('event');
    expect(merged.fields.startsAt).toEqual({
      value: at(3, 9),
      source: { itemId: organizerCopy.id, provider: 'google-calendar' },
      reason: "organizer's calendar",
    });
    expect(merged.fields.endsAt.value).toBe(at(3, 10));
    expect(merged.fields.title.value).toBe('Sprint planning');
    expect(merged.fields.allDay).toEqual({
      value: false,
      source: { itemId: organizerCopy.id, provider: 'google-calendar' },
      reason: 'follows startsAt',
    });
    // Attendee copies that differ are stale copies, not a disagreement.
    expect(merged.conflicts).toEqual([]);
  });

  it('recognizes the organizer by organizer.self too, and case-insensitively by email', () => {
    const self = member({
      ...attendeeCopy,
      id: 'ffffffff-0000-4000-8000-000000000001',
      accountEmail: null,
      organizer: { email: 'someone@example.com', self: true },
    });
    expect(mergeMembers([organizerCopy, self]).fields.startsAt.source?.itemId).toBe(self.id);
    const upper = member({ ...organizerCopy, accountEmail: 'ANA@example.com' });
    expect(mergeMembers([attendeeCopy, upper]).fields.startsAt.source?.itemId).toBe(upper.id);
  });

  it('without an organizer copy, the most recent calendar copy', () => {
    const other = member({ ...organizerCopy, accountEmail: 'x@example.com' });
    const merged = mergeMembers([other, attendeeCopy]);
    expect(merged.fields.startsAt).toEqual({
      value: at(3, 11),
      source: { itemId: attendeeCopy.id, provider: 'google-calendar' },
      reason: 'preferred provider for events (google-calendar), most recent of 2',
    });
    expect(merged.conflicts).toEqual([]);
  });

  it('two organizer copies with different times: a conflict per differing field', () => {
    const second = member({
      ...organizerCopy,
      startsAt: at(3, 13),
      endsAt: at(3, 10),
      externalUpdatedAt: at(4),
    });
    const merged = mergeMembers([organizerCopy, second]);
    expect(merged.fields.startsAt.source?.itemId).toBe(second.id);
    expect(merged.fields.startsAt.reason).toBe("conflict: most recent of 2 organizer's copies");
    expect(merged.conflicts.map((c) => c.field)).toEqual(['startsAt']);
    expect(merged.conflicts[0].reason).toBe(
      "2 organizer's copies disagree; the most recent is shown",
    );
  });

  it('an event discussed in a message stays an event; the message fills only empty fields', () => {
    const message = member({
      provider: 'slack',
      kind: 'message',
      title: 'See you at planning',
      body: 'agenda inside',
      externalUpdatedAt: at(9),
    });
    const merged = mergeMembers([message, organizerCopy]);
    expect(merged.kind).toBe('event');
    expect(merged.fields.title.source?.provider).toBe('google-calendar');
    expect(merged.fields.body.reason).toBe('fallback: empty in google-calendar; most recent');
  });
});

describe('merge policy: messages', () => {
  it('takes every field from the most recent message', () => {
    const older = member({
      provider: 'slack',
      kind: 'message',
      title: 'old',
      externalUpdatedAt: at(1),
    });
    const newer = member({
      provider: 'slack',
      kind: 'message',
      title: 'new',
      externalUpdatedAt: at(2),
    });
    const merged = mergeMembers([newer, older]);
    expect(merged.kind).toBe('message');
    expect(merged.fields.title).toEqual({
      value: 'new',
      source: { itemId: newer.id, provider: 'slack' },
      reason: 'most recent',
    });
  });

  it('uses updatedAt when the provider gave no time', () => {
    const a = member({ provider: 'slack', kind: 'message', title: 'a', updatedAt: at(5) });
    const b = member({ provider: 'slack', kind: 'message', title: 'b', updatedAt: at(4) });
    expect(mergeMembers([b, a]).fields.title.value).toBe('a');
  });
});

describe('merge policy: MERGE_POLICY overrides', () => {
  it('replaces a kind rank and one field rank', () => {
    const parsed = parseMergePolicy(
      '{"task":{"rank":["trello","jira"],"fields":{"dueAt":["jira"]}}}',
    );
    expect(parsed.ok).toBe(true);
    const policy = resolveMergePolicy(parsed.ok ? parsed.overrides : {});
    expect(policy.event).toEqual(DEFAULT_MERGE_POLICY.event);
    const jira = member({ provider: 'jira', kind: 'task', title: 'J', dueAt: at(1) });
    const trello = member({ provider: 'trello', kind: 'task', title: 'T', dueAt: at(2) });
    const merged = mergeMembers([jira, trello], policy);
    expect(merged.fields.title.source?.provider).toBe('trello');
    expect(merged.fields.dueAt.source?.provider).toBe('jira');
  });

  it.each([
    ['not json', /^MERGE_POLICY is not JSON/],
    ['[]', /^MERGE_POLICY must be a JSON object/],
    ['{"tasks":{}}', /^MERGE_POLICY\.tasks is not a kind \(one of event, task, message\)/],
    ['{"task":[]}', /^MERGE_POLICY\.task must be an object/],
    ['{"task":{"order":[]}}', /^MERGE_POLICY\.task\.order is not a setting/],
    ['{"task":{"rank":"jira"}}', /^MERGE_POLICY\.task\.rank must be an array/],
    [
      '{"task":{"rank":["Jira!"]}}',
      /^MERGE_POLICY\.task\.rank has "Jira!", which is not a provider id/,
    ],
    ['{"task":{"rank":["jira","jira"]}}', /^MERGE_POLICY\.task\.rank lists "jira" twice/],
    [
      '{"task":{"fields":{"assignees":["jira"]}}}',
      /^MERGE_POLICY\.task\.fields\.assignees is not a ranked field/,
    ],
  ])('refuses %s naming the variable and the path', (text, pattern) => {
    const parsed = parseMergePolicy(text);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.error).toMatch(pattern);
  });
});

describe('MERGE_POLICY at startup', () => {
  it('is parsed into the configuration, {} when unset', () => {
    expect(parseConfig({}).mergePolicy).toEqual({});
    expect(parseConfig({ MERGE_POLICY: '{"message":{"rank":["slack"]}}' }).mergePolicy).toEqual({
      message: { rank: ['slack'] },
    });
  });

  it('refuses a bad value with one line naming the variable and the path', () => {
    expect(() => parseConfig({ MERGE_POLICY: '{"event":{"fields":{"when":[]}}}' })).toThrow(
      /^Invalid configuration: MERGE_POLICY\.event\.fields\.when is not a ranked field \(one of title, body, status, startsAt, endsAt, dueAt, url\) \(got "/,
    );
  });
});

describe('merge policy: determinism', () => {
  const provider = fc.constantFrom('jira', 'trello', 'slack', 'google-calendar');
  const kind = fc.constantFrom<MergeKind>('task', 'event', 'message');
  const text = fc.option(fc.constantFrom('', ' ', 'A', 'B', 'b'), { nil: null });
  const time = fc.option(
    fc.integer({ min: 0, max: 4 }).map((d) => at(1 + d)),
    { nil: null },
  );
  const email = fc.option(fc.constantFrom('ana@example.com', 'ANA@example.com', 'bo@example.com'), {
    nil: null,
  });
  const memberArb = fc.record({
    provider,
    kind,
    title: text,
    body: text,
    status: text,
    startsAt: time,
    endsAt: time,
    allDay: fc.boolean(),
    dueAt: time,
    url: text,
    assignees: fc.array(fc.constantFrom('a@x', 'A@x', 'b@x'), { maxLength: 3 }),
    labels: fc.array(fc.constantFrom('bug', 'Bug', 'ui'), { maxLength: 3 }),
    externalUpdatedAt: time,
    updatedAt: fc.integer({ min: 0, max: 2 }).map((d) => at(1 + d)),
    accountEmail: email,
    organizer: fc.option(fc.record({ email, self: fc.option(fc.boolean(), { nil: null }) }), {
      nil: null,
    }),
  });
  const members = fc.array(memberArb, { minLength: 1, maxLength: 6 }).map((list) =>
    list.map((m, i) => ({
      ...m,
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      connectionId: `c-${i}`,
    })),
  );

  it('gives the same values, provenance and conflicts for every order of the members', () => {
    fc.assert(
      fc.property(
        members.chain((list) =>
          fc.tuple(
            fc.constant(list),
            fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length }),
          ),
        ),
        ([list, shuffled]) => {
          expect(mergeMembers(shuffled)).toEqual(mergeMembers(list));
          expect(mergeMembers([...list].reverse())).toEqual(mergeMembers(list));
        },
      ),
      { numRuns: 500 },
    );
  });
});
