import type { LinkEvidenceRole } from '@pdeck/integration-sdk';

/**
 * The link rules as pure functions (no Nest, no database): which pairs of items the evidence
 * links, how sure that is, and how links make groups. docs/cross-source.md describes them in
 * words; the detector (link-detector.service.ts) loads the rows these read.
 */

/** One stored evidence row: what item `itemId` says about key `key`. */
export interface EvidenceRow {
  itemId: string;
  key: string;
  role: LinkEvidenceRole;
  qualifier: string | null;
}

/** One reason a pair is linked: a key, and the role each side of the pair had for it. */
export interface EvidenceMatch {
  key: string;
  /** The role of the pair's smaller id (`itemId`). */
  itemRole: LinkEvidenceRole;
  /** The role of the pair's larger id (`linkedItemId`). */
  linkedItemRole: LinkEvidenceRole;
  confidence: number;
}

/** The `evidence` column of item_links. */
export interface LinkEvidenceDoc {
  matches: EvidenceMatch[];
}

export interface DetectedLink {
  /** Smaller id of the pair. */
  itemId: string;
  linkedItemId: string;
  confidence: number;
  reason: string;
  evidence: LinkEvidenceDoc;
}

/** Confidences, 0..1. Documented in docs/cross-source.md ("Links: detection and evidence"). */
export const CONFIDENCE = {
  /** Same identity, same qualifier on both sides (same organizer). */
  sameIdentityVouched: 0.95,
  /** Same identity, no qualifier on one side. */
  sameIdentity: 0.85,
  /** Same identity, different qualifiers (different organizers): still linked, less surely. */
  sameIdentityDisputed: 0.6,
  /** A reference to a key that another item has as its identity (a URL naming the site). */
  referenceToIdentity: 0.9,
  /** A reference to a key exactly one other item answers to (a bare key, one site has it). */
  referenceToAlias: 0.8,
  /** A reference to a key several items answer to (two sites have `ABC-123`): each, less surely. */
  referenceToSharedAlias: 0.5,
} as const;

/** `a|b` with the smaller id first: the one key of an unordered pair. */
export function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** The namespace of a key: what comes before its first `:`. */
export function namespaceOf(key: string): string {
  const colon = key.indexOf(':');
  return colon === -1 ? key : key.slice(0, colon);
}

/**
 * The detected links of every pair that has at least one item in `scope`, from `rows`. Rules:
 * - identity + identity, same key: the same thing (qualifiers raise or lower the confidence);
 * - reference + identity or alias, same key: the referencing item is about that thing;
 * - alias + alias and alias + identity prove nothing (two sites may both have `ABC-123`);
 * - a reference counts only when another item holds its key (identity or alias), and not when
 *   the referencing item itself holds a key of the same namespace (a Jira issue linking another
 *   Jira issue is a relation between two issues, not evidence that either is the other);
 * - an item that references two or more different held keys of one namespace mentions several
 *   things, and none of those references counts (a message about ABC-1 and ABC-2 is neither);
 * - never an item with itself.
 * `rows` must hold, for every item whose references decide a pair in scope, all its references,
 * and every holder of every key involved. Output sorted by pair: independent of row order.
 */
export function detectLinks(
  rows: readonly EvidenceRow[],
  scope: ReadonlySet<string>,
): DetectedLink[] {
  const byItem = new Map<string, EvidenceRow[]>();
  const holders = new Map<string, Map<string, EvidenceRow>>();
  const identities = new Map<string, EvidenceRow[]>();
  for (const row of uniqueRows(rows)) {
    push(byItem, row.itemId, row);
    if (row.role === 'reference') continue;
    let held = holders.get(row.key);
    if (!held) holders.set(row.key, (held = new Map()));
    held.set(row.itemId, row);
    if (row.role === 'identity') push(identities, row.key, row);
  }

  const matches = new Map<string, EvidenceMatch[]>();
  const add = (
    a: string,
    roleA: LinkEvidenceRole,
    b: string,
    roleB: LinkEvidenceRole,
    key: string,
    confidence: number,
  ): void => {
    if (a === b || (!scope.has(a) && !scope.has(b))) return;
    const [itemRole, linkedItemRole] = a < b ? [roleA, roleB] : [roleB, roleA];
    push(matches, pairKey(a, b), { key, itemRole, linkedItemRole, confidence });
  };

  // Identity + identity.
  for (const [key, list] of identities) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        add(
          list[i].itemId,
          'identity',
          list[j].itemId,
          'identity',
          key,
          identityConfidence(list[i], list[j]),
        );
      }
    }
  }

  // References, item by item.
  for (const [itemId, evidence] of byItem) {
    const own = new Set(
      evidence.filter((e) => e.role !== 'reference').map((e) => namespaceOf(e.key)),
    );
    const usable = new Map<string, string[]>();
    for (const e of evidence) {
      if (e.role !== 'reference' || own.has(namespaceOf(e.key))) continue;
      const held = holders.get(e.key);
      if (!held || [...held.keys()].every((h) => h === itemId)) continue;
      push(usable, namespaceOf(e.key), e.key);
    }
    for (const keys of usable.values()) {
      if (keys.length !== 1) continue; // several things of one kind: none of them
      const key = keys[0];
      const others = [...holders.get(key)!.values()].filter((h) => h.itemId !== itemId);
      const aliases = others.filter((h) => h.role === 'alias').length;
      for (const h of others) {
        const confidence =
          h.role === 'identity'
            ? CONFIDENCE.referenceToIdentity
            : aliases > 1
              ? CONFIDENCE.referenceToSharedAlias
              : CONFIDENCE.referenceToAlias;
        add(itemId, 'reference', h.itemId, h.role, key, confidence);
      }
    }
  }

  const links: DetectedLink[] = [];
  for (const [pair, list] of matches) {
    const [itemId, linkedItemId] = pair.split('|');
    const sorted = dedupeMatches(list);
    const best = [...sorted].sort(
      (x, y) => y.confidence - x.confidence || compare(x.key, y.key),
    )[0];
    links.push({
      itemId,
      linkedItemId,
      confidence: best.confidence,
      reason: reasonOf(
        best,
        sorted.length,
        (id) => holders.get(best.key)?.get(id)?.qualifier ?? null,
        [itemId, linkedItemId],
      ),
      evidence: { matches: sorted },
    });
  }
  return links.sort(
    (x, y) => compare(x.itemId, y.itemId) || compare(x.linkedItemId, y.linkedItemId),
  );
}

function identityConfidence(a: EvidenceRow, b: EvidenceRow): number {
  if (!a.qualifier || !b.qualifier) return CONFIDENCE.sameIdentity;
  return a.qualifier === b.qualifier
    ? CONFIDENCE.sameIdentityVouched
    : CONFIDENCE.sameIdentityDisputed;
}

function reasonOf(
  best: EvidenceMatch,
  count: number,
  qualifierOf: (itemId: string) => string | null,
  [itemId, linkedItemId]: [string, string],
): string {
  let text: string;
  if (best.itemRole === 'identity' && best.linkedItemRole === 'identity') {
    const [qa, qb] = [qualifierOf(itemId), qualifierOf(linkedItemId)];
    text = `Both items are ${best.key}`;
    if (qa && qb)
      text +=
        qa === qb
          ? `, vouched for by the same ${qa}`
          : `, but vouched for by different parties (${[qa, qb].sort().join(', ')})`;
  } else {
    const role = best.itemRole === 'reference' ? best.linkedItemRole : best.itemRole;
    text =
      role === 'identity'
        ? `One item mentions ${best.key}, which the other item is`
        : best.confidence === CONFIDENCE.referenceToSharedAlias
          ? `One item mentions ${best.key}, which the other item answers to, as do other items of this user`
          : `One item mentions ${best.key}, which the other item answers to`;
  }
  return count > 1 ? `${text} (and ${count - 1} more match${count > 2 ? 'es' : ''})` : text;
}

/** One match per (key, roles), the highest confidence; sorted by key then roles. */
function dedupeMatches(list: EvidenceMatch[]): EvidenceMatch[] {
  const byKey = new Map<string, EvidenceMatch>();
  for (const m of list) {
    const k = `${m.key}\u0000${m.itemRole}\u0000${m.linkedItemRole}`;
    const seen = byKey.get(k);
    if (!seen || m.confidence > seen.confidence) byKey.set(k, m);
  }
  return [...byKey.values()].sort(
    (x, y) =>
      compare(x.key, y.key) ||
      compare(x.itemRole, y.itemRole) ||
      compare(x.linkedItemRole, y.linkedItemRole),
  );
}

/** The same (item, key, role) given twice counts once; the qualifier kept is the smallest. */
function uniqueRows(rows: readonly EvidenceRow[]): EvidenceRow[] {
  const seen = new Map<string, EvidenceRow>();
  for (const row of rows) {
    const k = `${row.itemId}\u0000${row.key}\u0000${row.role}`;
    const prior = seen.get(k);
    if (!prior || compare(row.qualifier ?? '', prior.qualifier ?? '') < 0) seen.set(k, row);
  }
  return [...seen.values()].sort(
    (x, y) => compare(x.itemId, y.itemId) || compare(x.key, y.key) || compare(x.role, y.role),
  );
}

/** A link as grouping sees it. */
export interface GroupLink {
  itemId: string;
  linkedItemId: string;
  origin: 'detected' | 'manual';
  confidence: number;
}

/** A group: its anchor (smallest member id, the merged entry's id) and its sorted members. */
export interface ItemGroup {
  id: string;
  members: string[];
}

/**
 * Groups of `itemIds`: the connected components of `links`, except that two items of a rejected
 * pair never end up in one group. Links are taken in a fixed order (manual first, then higher
 * confidence, then by ids) and a link that would put a rejected pair together is skipped, so the
 * result depends only on the sets given, never on their order. Links to items outside `itemIds`
 * (deleted ones) are ignored; every item of `itemIds` is in exactly one group.
 */
export function groupItems(
  itemIds: Iterable<string>,
  links: readonly GroupLink[],
  rejections: ReadonlyArray<readonly [string, string]> = [],
): ItemGroup[] {
  const members = new Map<string, Set<string>>();
  const forbidden = new Map<string, Set<string>>();
  const root = new Map<string, string>();
  for (const id of itemIds) {
    if (root.has(id)) continue;
    root.set(id, id);
    members.set(id, new Set([id]));
    forbidden.set(id, new Set());
  }
  for (const [a, b] of rejections) {
    if (!root.has(a) || !root.has(b) || a === b) continue;
    forbidden.get(a)!.add(b);
    forbidden.get(b)!.add(a);
  }
  const find = (id: string): string => {
    let r = id;
    while (root.get(r) !== r) r = root.get(r)!;
    let cur = id;
    while (cur !== r) {
      const next = root.get(cur)!;
      root.set(cur, r);
      cur = next;
    }
    return r;
  };
  const ordered = uniqueLinks(links).sort(
    (x, y) =>
      (x.origin === y.origin ? 0 : x.origin === 'manual' ? -1 : 1) ||
      y.confidence - x.confidence ||
      compare(x.itemId, y.itemId) ||
      compare(x.linkedItemId, y.linkedItemId),
  );
  for (const link of ordered) {
    if (!root.has(link.itemId) || !root.has(link.linkedItemId)) continue;
    let [ra, rb] = [find(link.itemId), find(link.linkedItemId)];
    if (ra === rb) continue;
    if (members.get(ra)!.size < members.get(rb)!.size) [ra, rb] = [rb, ra];
    const blocked = forbidden.get(ra)!;
    if ([...members.get(rb)!].some((m) => blocked.has(m))) continue;
    root.set(rb, ra);
    for (const m of members.get(rb)!) members.get(ra)!.add(m);
    for (const f of forbidden.get(rb)!) blocked.add(f);
    members.delete(rb);
    forbidden.delete(rb);
  }
  return [...members.values()]
    .map((set) => {
      const sorted = [...set].sort(compare);
      return { id: sorted[0], members: sorted };
    })
    .sort((x, y) => compare(x.id, y.id));
}

/** One link per pair: a manual one over a detected one, else the higher confidence. */
function uniqueLinks(links: readonly GroupLink[]): GroupLink[] {
  const byPair = new Map<string, GroupLink>();
  for (const link of links) {
    if (link.itemId === link.linkedItemId) continue;
    const [a, b] =
      link.itemId < link.linkedItemId
        ? [link.itemId, link.linkedItemId]
        : [link.linkedItemId, link.itemId];
    const normal = { ...link, itemId: a, linkedItemId: b };
    const k = `${a}|${b}`;
    const seen = byPair.get(k);
    if (!seen || rank(normal) > rank(seen)) byPair.set(k, normal);
  }
  return [...byPair.values()];
}

function rank(link: GroupLink): number {
  return (link.origin === 'manual' ? 2 : 0) + link.confidence;
}

/** Code-unit order: the order of lower-case UUID text is Postgres' uuid order. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
