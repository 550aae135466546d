import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type {
  ItemKind,
  LinkableItem,
  LinkEvidence,
  LinkEvidenceRole,
} from '@pdeck/integration-sdk';
import { ProviderRegistry } from '../providers/provider-registry.js';
import { detectLinks, type DetectedLink, type EvidenceRow, pairKey } from './link-rules.js';
import { LINK_BATCH } from './links.constants.js';
import {
  ADVANCE_CURSOR_SQL,
  BROKEN_ENTRIES_SQL,
  CHANGED_ITEMS_SQL,
  CURSOR_SQL,
  DELETE_LINKS_OF_ITEMS_SQL,
  DELETE_LINKS_SQL,
  EVIDENCE_OF_ITEMS_SQL,
  EVIDENCE_OF_KEYS_SQL,
  HOLDERS_OF_KEYS_SQL,
  INSERT_EVIDENCE_SQL,
  LINKS_TOUCHING_SQL,
  LIVE_ITEMS_SQL,
  REFERENCERS_SQL,
  REFERENCES_OF_ITEMS_SQL,
  REJECTED_PAIRS_SQL,
  TAKE_EVIDENCE_SQL,
  TAKE_RECHECKS_SQL,
  TRY_LOCK_USER_LINKS_SQL,
  UPSERT_DETECTED_LINKS_SQL,
} from './links.sql.js';
import { MergedEntriesWriter } from './merged-entries.writer.js';

/** What one pass did for a user. */
export interface PassResult {
  /** Another worker holds the user's linker lock: nothing done. */
  busy: boolean;
  /** Changed items processed. */
  items: number;
  /** A full batch: more may be waiting. */
  more: boolean;
}

interface ChangedItemRow {
  id: string;
  provider: string;
  kind: ItemKind;
  external_id: string;
  container_id: string | null;
  title: string | null;
  body: string | null;
  url: string | null;
  raw: unknown;
  deleted: boolean;
  change_seq: string;
}

interface EvidenceDbRow {
  item_id: string;
  key: string;
  role: LinkEvidenceRole;
  qualifier: string | null;
}

interface LinkDbRow {
  id: string;
  item_id: string;
  linked_item_id: string;
  origin: 'detected' | 'manual';
  confidence: number;
  reason: string;
  evidence: unknown;
}

/** A row of item_link_evidence as written. */
type StoredEvidence = EvidenceRow;

const ROLES: ReadonlySet<string> = new Set(['identity', 'alias', 'reference']);
/** Bounds on what a provider may hand back for one item. */
const MAX_KEY_LENGTH = 1000;
const MAX_EVIDENCE_PER_ITEM = 200;

/**
 * One detector pass for one user, in one transaction (docs/cross-source.md, "When it runs"):
 * try the user's linker lock (skip if another worker holds it), read the next batch of the
 * user's changed items after the cursor, replace their evidence, recompute the detected links
 * around them (rejected pairs stay apart, manual links stay), recompute the affected groups and
 * merged entries (MergedEntriesWriter, which calls the hooks), advance the cursor, commit.
 *
 * Per user, items.change_seq commits in allocation order (LOCK_USER_FEED_SQL), so reading
 * `change_seq > cursor` never skips a change. The pass never takes the items feed lock: the
 * items write path does not wait for it.
 */
@Injectable()
export class UserLinkPass {
  private readonly logger = new Logger('Links');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly registry: ProviderRegistry,
    private readonly writer: MergedEntriesWriter,
  ) {}

  run(userId: string, batch = LINK_BATCH): Promise<PassResult> {
    return this.dataSource.transaction(async (manager) => {
      const [{ locked }] = await manager.query<{ locked: boolean }[]>(TRY_LOCK_USER_LINKS_SQL, [
        userId,
      ]);
      if (!locked) return { busy: true, items: 0, more: false };
      const rechecks = await manager.query<{ id: string }[]>(TAKE_RECHECKS_SQL, [userId]);
      const [cursor] = await manager.query<{ change_seq: string }[]>(CURSOR_SQL, [userId]);
      const items = await manager.query<ChangedItemRow[]>(CHANGED_ITEMS_SQL, [
        userId,
        cursor?.change_seq ?? '0',
        batch,
      ]);
      const seeds = new Set<string>();
      const broken: string[] = [];
      if (rechecks.length > 0) {
        const rows = await manager.query<{ id: string }[]>(BROKEN_ENTRIES_SQL, [userId]);
        broken.push(...rows.map((r) => r.id));
      }
      const changed = new Set(items.map((i) => i.id));
      if (items.length > 0) {
        for (const id of await this.relink(manager, userId, items)) seeds.add(id);
        for (const id of changed) seeds.add(id);
      }
      if (seeds.size > 0 || broken.length > 0) {
        await this.writer.recompute(manager, { userId, seeds, changed, entries: broken });
      }
      if (items.length > 0) {
        await manager.query(ADVANCE_CURSOR_SQL, [userId, items.at(-1)!.change_seq]);
      }
      return { busy: false, items: items.length, more: items.length === batch };
    });
  }

  /**
   * Replaces the evidence of `items` and the detected links around them. Returns the endpoints
   * of every link added or removed (their groups may have changed).
   */
  private async relink(
    manager: EntityManager,
    userId: string,
    items: ChangedItemRow[],
  ): Promise<Set<string>> {
    const ids = items.map((i) => i.id);
    const deleted = items.filter((i) => i.deleted).map((i) => i.id);
    const fresh = items.flatMap((item) => (item.deleted ? [] : this.evidenceOf(item)));
    const old = await manager.query<EvidenceDbRow[]>(TAKE_EVIDENCE_SQL, [ids]);
    if (fresh.length > 0) {
      await manager.query(INSERT_EVIDENCE_SQL, [userId, JSON.stringify(fresh)]);
    }

    // Who may have gained or lost a link: the changed items, and whoever references a key they
    // hold or held (a key that gains or loses a holder changes its referencers' links).
    const heldKeys = new Set<string>();
    for (const e of old) if (e.role !== 'reference') heldKeys.add(e.key);
    for (const e of fresh) if (e.role !== 'reference') heldKeys.add(e.key);
    const scope = new Set(ids);
    if (heldKeys.size > 0) {
      const referencers = await manager.query<{ item_id: string }[]>(REFERENCERS_SQL, [
        userId,
        [...heldKeys],
      ]);
      for (const r of referencers) scope.add(r.item_id);
    }

    const rows = await this.evidenceAround(manager, userId, scope);
    const candidates = detectLinks(rows, scope);
    const desired = await this.keepAllowed(manager, userId, candidates);

    const touched = new Set<string>();
    if (deleted.length > 0) {
      const gone = await manager.query<{ item_id: string; linked_item_id: string }[]>(
        DELETE_LINKS_OF_ITEMS_SQL,
        [deleted],
      );
      for (const l of gone) touched.add(l.item_id).add(l.linked_item_id);
    }
    const current = await manager.query<LinkDbRow[]>(LINKS_TOUCHING_SQL, [userId, [...scope]]);
    const currentByPair = new Map(current.map((l) => [pairKey(l.item_id, l.linked_item_id), l]));
    const stale = current.filter(
      (l) => l.origin === 'detected' && !desired.has(pairKey(l.item_id, l.linked_item_id)),
    );
    if (stale.length > 0) {
      const gone = await manager.query<{ item_id: string; linked_item_id: string }[]>(
        DELETE_LINKS_SQL,
        [stale.map((l) => l.id)],
      );
      for (const l of gone) touched.add(l.item_id).add(l.linked_item_id);
    }
    const upserts = [...desired.values()].filter((link) => {
      const now = currentByPair.get(pairKey(link.itemId, link.linkedItemId));
      if (!now) return true;
      if (now.origin === 'manual') return false;
      return (
        Number(now.confidence) !== link.confidence ||
        now.reason !== link.reason ||
        JSON.stringify(now.evidence) !== JSON.stringify(link.evidence)
      );
    });
    if (upserts.length > 0) {
      await manager.query(UPSERT_DETECTED_LINKS_SQL, [userId, JSON.stringify(upserts)]);
      for (const l of upserts) touched.add(l.itemId).add(l.linkedItemId);
    }
    return touched;
  }

  /**
   * The evidence rows detectLinks needs for every pair touching `scope`: the scope's own rows;
   * for keys the scope holds, every row (their other holders and their referencers); for keys
   * the scope references, their holders; and, for referencers outside the scope, all their
   * references with the holders of those keys (a reference counts only when its item mentions
   * one thing of its kind). Keys the scope only references are not expanded to their other
   * referencers, so a popular key costs nothing per new mention.
   */
  private async evidenceAround(
    manager: EntityManager,
    userId: string,
    scope: ReadonlySet<string>,
  ): Promise<EvidenceRow[]> {
    const rows: EvidenceDbRow[] = await manager.query(EVIDENCE_OF_ITEMS_SQL, [[...scope]]);
    const held = new Set<string>();
    const referenced = new Set<string>();
    for (const r of rows) (r.role === 'reference' ? referenced : held).add(r.key);
    if (held.size > 0)
      rows.push(...(await manager.query(EVIDENCE_OF_KEYS_SQL, [userId, [...held]])));
    const onlyReferenced = [...referenced].filter((k) => !held.has(k));
    if (onlyReferenced.length > 0) {
      rows.push(...(await manager.query(HOLDERS_OF_KEYS_SQL, [userId, onlyReferenced])));
    }
    const outside = new Set<string>();
    for (const r of rows)
      if (r.role === 'reference' && !scope.has(r.item_id)) outside.add(r.item_id);
    if (outside.size > 0) {
      const refs: EvidenceDbRow[] = await manager.query(REFERENCES_OF_ITEMS_SQL, [[...outside]]);
      rows.push(...refs);
      const loaded = new Set([...held, ...onlyReferenced]);
      const extra = [...new Set(refs.map((r) => r.key))].filter((k) => !loaded.has(k));
      if (extra.length > 0)
        rows.push(...(await manager.query(HOLDERS_OF_KEYS_SQL, [userId, extra])));
    }
    return rows.map((r) => ({
      itemId: r.item_id,
      key: r.key,
      role: r.role,
      qualifier: r.qualifier,
    }));
  }

  /** The candidates whose items are both live and whose pair no user rejected, by pair. */
  private async keepAllowed(
    manager: EntityManager,
    userId: string,
    candidates: DetectedLink[],
  ): Promise<Map<string, DetectedLink>> {
    const kept = new Map<string, DetectedLink>();
    if (candidates.length === 0) return kept;
    const endpoints = [...new Set(candidates.flatMap((c) => [c.itemId, c.linkedItemId]))];
    const live = new Set(
      (await manager.query<{ id: string }[]>(LIVE_ITEMS_SQL, [userId, endpoints])).map((r) => r.id),
    );
    const rejected = new Set(
      (
        await manager.query<{ item_id: string; linked_item_id: string }[]>(REJECTED_PAIRS_SQL, [
          candidates.map((c) => c.itemId),
          candidates.map((c) => c.linkedItemId),
        ])
      ).map((r) => pairKey(r.item_id, r.linked_item_id)),
    );
    for (const c of candidates) {
      const key = pairKey(c.itemId, c.linkedItemId);
      if (live.has(c.itemId) && live.has(c.linkedItemId) && !rejected.has(key)) kept.set(key, c);
    }
    return kept;
  }

  /**
   * The provider's evidence for a live item, checked: a provider without linkEvidence gives
   * none, and one that throws is logged (ids only) and gives none, so one bad item never stops
   * the user's links.
   */
  private evidenceOf(item: ChangedItemRow): StoredEvidence[] {
    const provider = this.registry.find(item.provider);
    if (!provider?.linkEvidence) return [];
    const linkable: LinkableItem = {
      id: item.id,
      provider: item.provider,
      kind: item.kind,
      externalId: item.external_id,
      containerId: item.container_id,
      title: item.title,
      body: item.body,
      url: item.url,
      raw: item.raw,
    };
    let evidence: LinkEvidence[];
    try {
      evidence = provider.linkEvidence(linkable);
    } catch (error) {
      this.logger.warn({
        msg: 'link evidence failed; the item is left unlinked',
        itemId: item.id,
        provider: item.provider,
        error: (error as Error).message,
      });
      return [];
    }
    return (Array.isArray(evidence) ? evidence : [])
      .filter(isValidEvidence)
      .slice(0, MAX_EVIDENCE_PER_ITEM)
      .map((e) => ({
        itemId: item.id,
        key: e.key,
        role: e.role,
        qualifier: e.role === 'identity' && e.qualifier ? e.qualifier : null,
      }));
  }
}

function isValidEvidence(e: LinkEvidence): boolean {
  return (
    typeof e?.key === 'string' &&
    e.key.length > 0 &&
    e.key.length <= MAX_KEY_LENGTH &&
    !e.key.includes('\u0000') &&
    ROLES.has(e.role) &&
    (e.qualifier === undefined ||
      (typeof e.qualifier === 'string' &&
        e.qualifier.length <= MAX_KEY_LENGTH &&
        !e.qualifier.includes('\u0000')))
  );
}
