import { describe, expect, it } from 'vitest';
import {
  CONFIDENCE,
  detectLinks,
  type EvidenceRow,
  type GroupLink,
  groupItems,
  namespaceOf,
  pairKey,
} from './link-rules.js';

const row = (
  itemId: string,
  key: string,
  role: EvidenceRow['role'],
  qualifier: string | null = null,
): EvidenceRow => ({ itemId, key, role, qualifier });
/** A Jira issue: identity on its site and its bare-key alias. */
const issue = (id: string, host: string, key: string): EvidenceRow[] => [
  row(id, `jira:${host}/${key}`, 'identity'),
  row(id, `jira:${key}`, 'alias'),
];
const all = (rows: EvidenceRow[]) => new Set(rows.map((r) => r.itemId));
const pairs = (rows: EvidenceRow[], scope = all(rows)) =>
  detectLinks(rows, scope).map((l) => [l.itemId, l.linkedItemId, l.confidence]);

describe('detectLinks', () => {
  it('links two items with the same identity; qualifiers raise or lower the confidence', () => {
    expect(pairs([row('a', 'ical:u1', 'identity'), row('b', 'ical:u1', 'identity')])).toEqual([
      ['a', 'b', CONFIDENCE.sameIdentity],
    ]);
    const same = [row('a', 'ical:u1', 'identity', 'o@x'), row('b', 'ical:u1', 'identity', 'o@x')];
    const [link] = detectLinks(same, all(same));
    expect(link.confidence).toBe(CONFIDENCE.sameIdentityVouched);
    expect(link.reason).toBe('Both items are ical:u1, vouched for by the same o@x');
    expect(link.evidence).toEqual({
      matches: [
        { key: 'ical:u1', itemRole: 'identity', linkedItemRole: 'identity', confidence: 0.95 },
      ],
    });
    const differ = [row('a', 'ical:u1', 'identity', 'o@x'), row('b', 'ical:u1', 'identity', 'p@x')];
    expect(pairs(differ)).toEqual([['a', 'b', CONFIDENCE.sameIdentityDisputed]]);
  });

  it('links a reference to the item that is the thing, and says which side had which role', () => {
    const rows = [
      ...issue('b', 'acme.atlassian.net', 'ABC-1'),
      row('a', 'jira:acme.atlassian.net/ABC-1', 'reference'),
    ];
    const [link] = detectLinks(rows, all(rows));
    expect(link).toMatchObject({
      itemId: 'a',
      linkedItemId: 'b',
      confidence: CONFIDENCE.referenceToIdentity,
    });
    expect(link.evidence.matches).toEqual([
      {
        key: 'jira:acme.atlassian.net/ABC-1',
        itemRole: 'reference',
        linkedItemRole: 'identity',
        confidence: 0.9,
      },
    ]);
    expect(link.reason).toBe(
      'One item mentions jira:acme.atlassian.net/ABC-1, which the other item is',
    );
  });

  it('links a bare key only when an issue has exactly that key (UTF-8, ISO-8601 are nobody)', () => {
    const rows = [
      ...issue('i', 'acme.atlassian.net', 'ABC-123'),
      row('m', 'jira:UTF-8', 'reference'),
      row('m', 'jira:ISO-8601', 'reference'),
      row('m', 'jira:ABC-123', 'reference'),
      row('n', 'jira:UTF-8', 'reference'),
    ];
    expect(pairs(rows)).toEqual([['i', 'm', CONFIDENCE.referenceToAlias]]);
  });

  it('links a bare key to both sites that have it, less surely; two sites never link each other', () => {
    const rows = [
      ...issue('a', 'one.atlassian.net', 'ABC-1'),
      ...issue('b', 'two.atlassian.net', 'ABC-1'),
      row('m', 'jira:ABC-1', 'reference'),
    ];
    expect(pairs(rows)).toEqual([
      ['a', 'm', CONFIDENCE.referenceToSharedAlias],
      ['b', 'm', CONFIDENCE.referenceToSharedAlias],
    ]);
  });

  it('ignores references to the kind of thing the item itself is (an issue linking an issue)', () => {
    const rows = [
      ...issue('a', 'h', 'ABC-1'),
      ...issue('b', 'h', 'ABC-2'),
      row('a', 'jira:h/ABC-2', 'reference'),
      row('a', 'trello:Card1', 'reference'),
      row('c', 'trello:Card1', 'identity'),
    ];
    expect(pairs(rows)).toEqual([['a', 'c', CONFIDENCE.referenceToIdentity]]);
  });

  it('ignores an item that mentions several things of one kind, but counts its other kinds', () => {
    const rows = [
      ...issue('a', 'h', 'ABC-1'),
      ...issue('b', 'h', 'ABC-2'),
      row('c', 'trello:Card1', 'identity'),
      row('m', 'jira:ABC-1', 'reference'),
      row('m', 'jira:ABC-2', 'reference'),
      row('m', 'jira:NOPE-3', 'reference'), // nobody's: does not make it ambiguous
      row('m', 'trello:Card1', 'reference'),
    ];
    expect(pairs(rows)).toEqual([['c', 'm', CONFIDENCE.referenceToIdentity]]);
  });

  it('never links an item with itself, and only pairs that touch the scope', () => {
    const rows = [
      row('a', 'trello:X', 'identity'),
      row('a', 'trello:X', 'reference'),
      row('b', 'ical:u', 'identity'),
      row('c', 'ical:u', 'identity'),
    ];
    expect(pairs(rows)).toEqual([['b', 'c', CONFIDENCE.sameIdentity]]);
    expect(pairs(rows, new Set(['a']))).toEqual([]);
  });

  it('keeps every match of a pair, the best one deciding confidence and reason', () => {
    const rows = [
      ...issue('i', 'h', 'ABC-1'),
      row('m', 'jira:h/ABC-1', 'reference'),
      row('i', 'trello:T', 'reference'),
      row('m', 'trello:T', 'identity'),
    ];
    const [link] = detectLinks(rows, all(rows));
    expect(link.evidence.matches.map((m) => m.key)).toEqual(['jira:h/ABC-1', 'trello:T']);
    expect(link.reason).toMatch(/\(and 1 more match\)$/);
  });

  it('splits keys into namespaces and pairs into one ordered key', () => {
    expect(namespaceOf('jira:h/ABC-1')).toBe('jira');
    expect(namespaceOf('nocolon')).toBe('nocolon');
    expect(pairKey('b', 'a')).toBe('a|b');
  });
});

describe('groupItems', () => {
  const link = (
    a: string,
    b: string,
    confidence = 0.9,
    origin: GroupLink['origin'] = 'detected',
  ): GroupLink => ({
    itemId: a,
    linkedItemId: b,
    confidence,
    origin,
  });

  it('makes connected components, anchored at their smallest id, with singles for the rest', () => {
    expect(groupItems(['d', 'c', 'b', 'a', 'e'], [link('b', 'd'), link('c', 'd')])).toEqual([
      { id: 'a', members: ['a'] },
      { id: 'b', members: ['b', 'c', 'd'] },
      { id: 'e', members: ['e'] },
    ]);
  });

  it('ignores links to items it was not given (deleted items)', () => {
    expect(groupItems(['a', 'c'], [link('a', 'b'), link('b', 'c')])).toEqual([
      { id: 'a', members: ['a'] },
      { id: 'c', members: ['c'] },
    ]);
  });

  it('keeps a rejected pair apart even through a third item: the stronger link wins', () => {
    // card c -- issue i rejected; message m links both. m-i (0.9) is taken, m-c (0.8) skipped.
    const groups = groupItems(
      ['c', 'i', 'm'],
      [link('i', 'm', 0.9), link('c', 'm', 0.8)],
      [['c', 'i']],
    );
    expect(groups).toEqual([
      { id: 'c', members: ['c'] },
      { id: 'i', members: ['i', 'm'] },
    ]);
  });

  it('takes manual links first', () => {
    const groups = groupItems(
      ['c', 'i', 'm'],
      [link('i', 'm', 0.9), link('c', 'm', 1, 'manual')],
      [['c', 'i']],
    );
    expect(groups).toEqual([
      { id: 'c', members: ['c', 'm'] },
      { id: 'i', members: ['i'] },
    ]);
  });
});
