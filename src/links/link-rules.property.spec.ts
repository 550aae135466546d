import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  detectLinks,
  type EvidenceRow,
  type GroupLink,
  groupItems,
  pairKey,
} from './link-rules.js';

const ITEMS = ['i0', 'i1', 'i2', 'i3', 'i4', 'i5', 'i6', 'i7'];

/** A permutation of `list`, drawn by fast-check. */
const permutationOf = <T>(list: readonly T[]) =>
  fc.shuffledSubarray([...list], { minLength: list.length, maxLength: list.length });

const itemsArb = fc.uniqueArray(fc.constantFrom(...ITEMS), {
  minLength: 1,
  maxLength: ITEMS.length,
});
const pairArb = fc
  .tuple(fc.constantFrom(...ITEMS), fc.constantFrom(...ITEMS))
  .filter(([a, b]) => a !== b)
  .map(([a, b]) => (a < b ? ([a, b] as const) : ([b, a] as const)));
const linkArb: fc.Arbitrary<GroupLink> = fc
  .record({
    pair: pairArb,
    origin: fc.constantFrom('detected' as const, 'manual' as const),
    confidence: fc.constantFrom(0.5, 0.6, 0.8, 0.85, 0.9, 0.95, 1),
  })
  .map(({ pair, origin, confidence }) => ({
    itemId: pair[0],
    linkedItemId: pair[1],
    origin,
    confidence,
  }));
const linksArb = fc.array(linkArb, { maxLength: 16 }).map((links) => {
  // One link per pair, as item_links stores them.
  const byPair = new Map(links.map((l) => [pairKey(l.itemId, l.linkedItemId), l]));
  return [...byPair.values()];
});
const rejectionsArb = fc.uniqueArray(pairArb, {
  maxLength: 4,
  selector: ([a, b]) => `${a}|${b}`,
});

const KEYS = [
  'ical:u1',
  'ical:u2',
  'jira:h/A-1',
  'jira:A-1',
  'jira:k/A-1',
  'jira:h/A-2',
  'jira:A-2',
  'trello:T1',
];
const rowArb: fc.Arbitrary<EvidenceRow> = fc.record({
  itemId: fc.constantFrom(...ITEMS),
  key: fc.constantFrom(...KEYS),
  role: fc.constantFrom('identity' as const, 'alias' as const, 'reference' as const),
  qualifier: fc.constantFrom(null, 'o1', 'o2'),
});
const rowsArb = fc.uniqueArray(rowArb, {
  maxLength: 20,
  selector: (r) => `${r.itemId}|${r.key}|${r.role}`,
});

/** Connected components by breadth-first search: the reference without rejections. */
function components(items: string[], links: GroupLink[]): string[][] {
  const known = new Set(items);
  const seen = new Set<string>();
  const groups: string[][] = [];
  for (const start of [...items].sort()) {
    if (seen.has(start)) continue;
    const group: string[] = [];
    const queue = [start];
    seen.add(start);
    while (queue.length > 0) {
      const id = queue.shift()!;
      group.push(id);
      for (const l of links) {
        const other = l.itemId === id ? l.linkedItemId : l.linkedItemId === id ? l.itemId : null;
        if (other && known.has(other) && !seen.has(other)) {
          seen.add(other);
          queue.push(other);
        }
      }
    }
    groups.push(group.sort());
  }
  return groups;
}

describe('grouping (property)', () => {
  it('is deterministic and independent of the order items, links and rejections arrive in', () => {
    fc.assert(
      fc.property(
        itemsArb.chain((items) =>
          fc
            .tuple(fc.constant(items), linksArb, rejectionsArb)
            .chain(([i, l, r]) =>
              fc.tuple(
                fc.constant([i, l, r] as const),
                permutationOf(i),
                permutationOf(l),
                permutationOf(r),
              ),
            ),
        ),
        ([[items, links, rejections], items2, links2, rejections2]) => {
          // Links may also arrive with their ends swapped.
          const swapped = links2.map((l) => ({
            ...l,
            itemId: l.linkedItemId,
            linkedItemId: l.itemId,
          }));
          const one = groupItems(items, links, rejections);
          expect(groupItems(items2, swapped, rejections2)).toEqual(one);
          expect(groupItems(items, links, rejections)).toEqual(one);
        },
      ),
    );
  });

  it('partitions the items, anchors each group at its smallest id, and without rejections is the connected components', () => {
    fc.assert(
      fc.property(itemsArb, linksArb, rejectionsArb, (items, links, rejections) => {
        const groups = groupItems(items, links, rejections);
        expect(groups.flatMap((g) => g.members).sort()).toEqual([...items].sort());
        for (const g of groups) expect(g.id).toBe([...g.members].sort()[0]);
        expect(groupItems(items, links).map((g) => g.members)).toEqual(components(items, links));
      }),
    );
  });

  it('keeps a split pair apart whatever links arrive after, manual ones included', () => {
    fc.assert(
      fc.property(
        itemsArb,
        linksArb,
        rejectionsArb,
        linksArb,
        (items, before, rejections, after) => {
          for (const links of [before, [...before, ...after], after]) {
            const groups = groupItems(items, links, rejections);
            const groupOf = new Map(
              groups.flatMap((g) => g.members.map((m) => [m, g.id] as const)),
            );
            for (const [a, b] of rejections) {
              if (groupOf.has(a) && groupOf.has(b)) expect(groupOf.get(a)).not.toBe(groupOf.get(b));
            }
          }
        },
      ),
    );
  });
});

describe('detection (property)', () => {
  it('does not depend on the order evidence rows arrive in', () => {
    fc.assert(
      fc.property(
        rowsArb.chain((rows) => fc.tuple(fc.constant(rows), permutationOf(rows))),
        ([rows, shuffled]) => {
          const scope = new Set(ITEMS);
          expect(detectLinks(shuffled, scope)).toEqual(detectLinks(rows, scope));
        },
      ),
    );
  });

  it('computes, for a scope, exactly the links of a full detection that touch the scope', () => {
    fc.assert(
      fc.property(rowsArb, fc.uniqueArray(fc.constantFrom(...ITEMS)), (rows, scopeIds) => {
        const scope = new Set(scopeIds);
        const full = detectLinks(rows, new Set(ITEMS)).filter(
          (l) => scope.has(l.itemId) || scope.has(l.linkedItemId),
        );
        expect(detectLinks(rows, scope)).toEqual(full);
      }),
    );
  });

  it('never links an item with itself and never links two holders of one alias', () => {
    fc.assert(
      fc.property(rowsArb, (rows) => {
        for (const link of detectLinks(rows, new Set(ITEMS))) {
          expect(link.itemId < link.linkedItemId).toBe(true);
          for (const m of link.evidence.matches) {
            expect([m.itemRole, m.linkedItemRole]).toContain(
              m.itemRole === 'identity' && m.linkedItemRole === 'identity'
                ? 'identity'
                : 'reference',
            );
            expect(m.confidence).toBeGreaterThan(0);
            expect(m.confidence).toBeLessThanOrEqual(1);
          }
        }
      }),
    );
  });
});
