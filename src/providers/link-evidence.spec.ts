import { describe, expect, it } from 'vitest';
import { googleCalendarLinkEvidence } from './google-calendar/google-calendar.links.js';
import { toItem } from './google-calendar/google-calendar.mapper.js';
import type { LinkableItem, NormalizedItem } from '@pdeck/integration-sdk';
import { jiraLinkEvidence } from './jira/jira.links.js';
import { mapIssue } from './jira/jira.mapper.js';
import { slackLinkEvidence } from './slack/slack.links.js';
import { toMessageItem } from './slack/slack.mapper.js';
import { trelloLinkEvidence } from './trello/trello.links.js';
import { mapCard } from './trello/trello.mapper.js';

/** Items as the mappers make them from provider payloads, as link detection reads them. */
function linkable(item: NormalizedItem, provider: string): LinkableItem {
  return { ...item, id: '00000000-0000-4000-8000-000000000001', provider };
}

describe('Google Calendar link evidence', () => {
  const event = (extra: Record<string, unknown>) =>
    linkable(
      toItem(
        {
          id: 'evt1',
          iCalUID: 'weekly@google.com',
          summary: 'Weekly',
          description: 'About https://acme.atlassian.net/browse/ABC-1',
          start: { dateTime: '2026-12-01T09:00:00Z' },
          end: { dateTime: '2026-12-01T09:30:00Z' },
          updated: '2026-11-01T00:00:00.000Z',
          ...extra,
        } as never,
        { id: 'alice@example.com', name: 'Alice' },
      ),
      'google-calendar',
    );

  it('is the iCalUID, vouched for by the organizer (lower-cased); no references', () => {
    expect(googleCalendarLinkEvidence(event({ organizer: { email: 'Lead@Example.com' } }))).toEqual(
      [{ key: 'ical:weekly@google.com', role: 'identity', qualifier: 'lead@example.com' }],
    );
    expect(googleCalendarLinkEvidence(event({}))).toEqual([
      { key: 'ical:weekly@google.com', role: 'identity' },
    ]);
  });

  it('keys a modified instance by its original start, so it is not its series', () => {
    const instance = event({
      recurringEventId: 'series1',
      originalStartTime: { dateTime: '2026-12-01T10:00:00+01:00' },
    });
    expect(googleCalendarLinkEvidence(instance)).toEqual([
      { key: 'ical:weekly@google.com#2026-12-01T09:00:00.000Z', role: 'identity' },
    ]);
    const allDay = event({ recurringEventId: 's', originalStartTime: { date: '2026-12-24' } });
    expect(googleCalendarLinkEvidence(allDay)[0].key).toBe('ical:weekly@google.com#2026-12-24');
    expect(googleCalendarLinkEvidence(event({ recurringEventId: 's' }))).toEqual([]);
  });

  it('gives nothing without an iCalUID', () => {
    expect(googleCalendarLinkEvidence(event({ iCalUID: undefined }))).toEqual([]);
  });
});

describe('Jira link evidence', () => {
  const issue = (description: string | null, key = 'ABC-123') =>
    linkable(
      mapIssue(
        {
          id: '10001',
          key,
          fields: {
            summary: 'Login fails',
            updated: '2026-11-01T10:00:00.000+0000',
            status: { name: 'To Do' },
            description: description
              ? {
                  type: 'doc',
                  version: 1,
                  content: [{ type: 'paragraph', content: [{ type: 'text', text: description }] }],
                }
              : null,
          },
        } as never,
        { cloudId: 'c1', url: 'https://Acme.atlassian.net/', name: 'Acme' },
      )!,
      'jira',
    );

  it('is its key on its site, answers to its bare key, and references the cards its description links', () => {
    expect(jiraLinkEvidence(issue('Tracked on https://trello.com/c/AbCd1234 and ABC-9'))).toEqual([
      { key: 'jira:acme.atlassian.net/ABC-123', role: 'identity' },
      { key: 'jira:ABC-123', role: 'alias' },
      { key: 'trello:AbCd1234', role: 'reference' },
    ]);
  });

  it('gives no identity without a key or a URL', () => {
    const noKey = issue(null);
    expect(jiraLinkEvidence({ ...noKey, raw: { key: null } })).toEqual([]);
    expect(jiraLinkEvidence({ ...noKey, url: null })).toEqual([]);
  });
});

describe('Trello link evidence', () => {
  const card = (desc: string, name = 'Fix login') =>
    linkable(
      mapCard(
        {
          id: 'card1',
          shortLink: 'AbCd1234',
          shortUrl: 'https://trello.com/c/AbCd1234',
          name,
          desc,
          idList: 'l1',
          dateLastActivity: '2026-11-01T10:00:00.000Z',
        },
        {
          id: 'b1',
          name: 'Board',
          lists: new Map([['l1', { id: 'l1', name: 'Doing' }]]),
          members: new Map(),
        },
        null,
      )!,
      'trello',
    );

  it('is its shortLink and references the Jira URLs of its name and description (not bare keys)', () => {
    expect(
      trelloLinkEvidence(
        card('Jira: https://acme.atlassian.net/browse/ABC-123 (ABC-123)', 'ABC-9 login'),
      ),
    ).toEqual([
      { key: 'trello:AbCd1234', role: 'identity' },
      { key: 'jira:acme.atlassian.net/ABC-123', role: 'reference' },
    ]);
  });
});

describe('Slack link evidence', () => {
  const message = (text: string) =>
    linkable(
      toMessageItem(
        { type: 'message', user: 'U1', text, ts: '1764000000.000100' },
        {
          channelId: 'C1',
          channelName: 'general',
          workspaceUrl: 'https://acme.slack.com/',
          taskEmoji: 'white_check_mark',
          nameOf: () => 'Alice',
          fromHistory: true,
        },
      )!,
      'slack',
    );

  it('references Jira URLs, card URLs and bare keys of its mrkdwn text; never an identity', () => {
    expect(
      slackLinkEvidence(
        message(
          '<https://acme.atlassian.net/browse/ABC-1|ABC-1> blocks OPS-7, card <https://trello.com/c/AbCd1234|here>; UTF-8',
        ),
      ),
    ).toEqual([
      { key: 'jira:acme.atlassian.net/ABC-1', role: 'reference' },
      { key: 'trello:AbCd1234', role: 'reference' },
      { key: 'jira:OPS-7', role: 'reference' },
      { key: 'jira:UTF-8', role: 'reference' },
    ]);
  });

  it('reads the body when the raw text is missing', () => {
    const m = message('x');
    expect(slackLinkEvidence({ ...m, raw: {}, body: 'see ABC-2' })).toEqual([
      { key: 'jira:ABC-2', role: 'reference' },
    ]);
  });
});
