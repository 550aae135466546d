import { describe, expect, it } from 'vitest';
import {
  hostOf,
  jiraBareKey,
  jiraIssueKey,
  referencesIn,
  trelloCardKey,
} from './link-references.js';

const keys = (texts: (string | null)[], bare = false) =>
  referencesIn(texts, { bareJiraKeys: bare }).map((e) => e.key);

describe('referencesIn', () => {
  it('finds Jira browse URLs on any host, with the host (and port) lower-cased', () => {
    expect(
      keys([
        'See https://Acme.atlassian.net/browse/ABC-123, and http://127.0.0.1:9300/browse/OPS_2-7.',
        'Not an issue: https://acme.atlassian.net/jira/software/projects/ABC/boards/1',
      ]),
    ).toEqual([jiraIssueKey('acme.atlassian.net', 'ABC-123'), 'jira:127.0.0.1:9300/OPS_2-7']);
  });

  it('finds Trello card URLs on trello.com only, by shortLink, with or without the slug', () => {
    expect(
      keys([
        'Card https://trello.com/c/AbCd1234/12-fix-login and (https://www.trello.com/c/ZZzz9999)',
        'A board is not a card: https://trello.com/b/AbCd1234/roadmap',
        'Another host is not Trello: https://example.com/c/AbCd1234',
      ]),
    ).toEqual([trelloCardKey('AbCd1234'), trelloCardKey('ZZzz9999')]);
  });

  it("reads Slack's <url|label> links: the URL ends at the bar", () => {
    expect(
      keys(
        [
          '<https://acme.atlassian.net/browse/ABC-1|ABC-1> and <https://trello.com/c/AbCd1234|card>',
        ],
        true,
      ),
    ).toEqual(['jira:acme.atlassian.net/ABC-1', 'trello:AbCd1234']);
  });

  it('counts bare keys only when asked, anchored on word boundaries', () => {
    const text =
      'ABC-123 (XYZ-9), PROJ_1-5. not: xABC-1 9ABC-2 ABC-12a ABC-123-fix feature/ABC-7 abc-4 ABC-0 A-1';
    expect(keys([text])).toEqual([]);
    expect(keys([text], true)).toEqual([
      jiraBareKey('ABC-123'),
      jiraBareKey('XYZ-9'),
      jiraBareKey('PROJ_1-5'),
    ]);
  });

  it('reports UTF-8 and ISO-8601 as candidate keys: only a known Jira key makes them count', () => {
    // The shape alone is too greedy; link-rules.ts links a bare key only to an item that answers
    // to it (link-rules.spec.ts: "links a bare key only when an issue has exactly that key").
    expect(keys(['UTF-8 and ISO-8601'], true)).toEqual(['jira:UTF-8', 'jira:ISO-8601']);
  });

  it('ignores a bare key inside a URL, and one the same text already names by URL', () => {
    expect(
      keys(
        [
          'https://acme.atlassian.net/browse/ABC-1 (ABC-1) https://ci.example/builds/OPS-9 https://x.example/?q=DEF-2',
        ],
        true,
      ),
    ).toEqual(['jira:acme.atlassian.net/ABC-1']);
  });

  it('dedupes and survives empty and odd input', () => {
    expect(
      keys(
        [
          null,
          '',
          'https://',
          'ABC-1 ABC-1 https://trello.com/c/AbCd1234 https://trello.com/c/AbCd1234',
        ],
        true,
      ),
    ).toEqual(['trello:AbCd1234', 'jira:ABC-1']);
  });
});

describe('hostOf', () => {
  it('answers the host of http(s) URLs only', () => {
    expect(hostOf('https://Acme.Atlassian.net/browse/X-1')).toBe('acme.atlassian.net');
    expect(hostOf('http://127.0.0.1:9300/browse/X-1')).toBe('127.0.0.1:9300');
    expect(hostOf('mailto:a@b.c')).toBeNull();
    expect(hostOf('not a url')).toBeNull();
    expect(hostOf(null)).toBeNull();
  });
});
