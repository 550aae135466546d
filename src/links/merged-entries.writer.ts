import { Inject, Injectable, Optional } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { compare, type GroupLink, groupItems } from './link-rules.js';
import {
  DELETE_MEMBERSHIP_SQL,
  LINKS_TOUCHING_SQL,
  LIVE_ENTRIES_SQL,
  LIVE_ITEMS_SQL,
  LOCK_MERGED_FEED_SQL,
  MEMBERSHIP_SQL,
  REJECTIONS_AMONG_SQL,
  UPSERT_MEMBERSHIP_SQL,
  WRITE_ENTRIES_SQL,
} from './links.sql.js';
import {
  MERGED_ENTRY_HOOKS,
  type MergedEntriesChange,
  type MergedEntryHook,
} from './merged-entry-hooks.js';

export interface RecomputeInput {
  userId: string;
  /** Items whose group may have changed: changed items, endpoints of added or removed links. */
  seeds: Iterable<string>;
  /** Items whose content changed (or that were deleted): their entry gets a new change_seq. */
  changed?: ReadonlySet<string>;
  /** Live entries to place again although no seed points at them (members purged). */
  entries?: Iterable<string>;
}

interface LinkRow {
  item_id: string;
  linked_item_id: string;
  origin: 'detected' | 'manual';
  confidence: number;
}

/**
 * Keeps `merged_entries` (and its inverse, `merged_entry_members`) equal to the groups of a
 * user's live items (link-rules.ts, groupItems), for the part of the link graph around `seeds`.
 * Runs in the caller's transaction, which must hold the user's linker lock
 * (LOCK_USER_LINKS_SQL): the detector's pass and the split/join routes both call it.
 *
 * The region: the seeds, everything linked to them (transitively), and the members of every
 * live entry one of those is in (a group that loses a link may split, and all of its old members
 * must be placed again), until nothing new is reached. Within it: groups are recomputed, an entry
 * whose members or members' content changed is rewritten with a new change_seq, an entry whose id
 * is no longer an anchor becomes a tombstone (keeping its last members), and then every hook
 * registered under MERGED_ENTRY_HOOKS runs in the transaction. Every lookup is by primary key or
 * by an indexed id column, a batch of ids per statement.
 */
@Injectable()
export class MergedEntriesWriter {
  constructor(
    @Optional() @Inject(MERGED_ENTRY_HOOKS) private readonly hooks: MergedEntryHook[] = [],
  ) {}

  async recompute(manager: EntityManager, input: RecomputeInput): Promise<MergedEntriesChange> {
    const { userId } = input;
    const changed = input.changed ?? new Set<string>();
    const none: MergedEntriesChange = { userId, changedEntryIds: [], removedEntryIds: [] };
    const region = new Set<string>();
    const links = new Map<string, LinkRow>();
    const membership = new Map<string, string>();
    const oldEntries = new Map<string, string[]>();
    let frontier = [...new Set(input.seeds)];
    let entryIds = [...new Set(input.entries ?? [])];
    while (frontier.length > 0 || entryIds.length > 0) {
      for (const id of frontier) region.add(id);
      const next = new Set<string>();
      // One after the other: a transaction is one connection.
      if (frontier.length > 0) {
        const linkRows = await manager.query<LinkRow[]>(LINKS_TOUCHING_SQL, [userId, frontier]);
        for (const link of linkRows) {
          links.set(`${link.item_id}|${link.linked_item_id}`, link);
          for (const id of [link.item_id, link.linked_item_id]) if (!region.has(id)) next.add(id);
        }
        const rows = await manager.query<{ item_id: string; entry_id: string }[]>(MEMBERSHIP_SQL, [
          userId,
          frontier,
        ]);
        for (const r of rows) membership.set(r.item_id, r.entry_id);
        entryIds.push(...rows.map((r) => r.entry_id));
      }
      const unseen = [...new Set(entryIds)].filter((id) => !oldEntries.has(id));
      entryIds = [];
      if (unseen.length > 0) {
        const entries = await manager.query<{ id: string; member_ids: string[] }[]>(
          LIVE_ENTRIES_SQL,
          [userId, unseen],
        );
        for (const entry of entries) {
          oldEntries.set(entry.id, entry.member_ids);
          for (const id of entry.member_ids) if (!region.has(id)) next.add(id);
        }
      }
      frontier = [...next];
    }
    if (region.size === 0 && oldEntries.size === 0) return none;

    const ids = [...region];
    const live = await manager.query<{ id: string }[]>(LIVE_ITEMS_SQL, [userId, ids]);
    const rejections = await manager.query<{ item_id: string; linked_item_id: string }[]>(
      REJECTIONS_AMONG_SQL,
      [userId, ids],
    );
    const groups = groupItems(
      live.map((r) => r.id),
      [...links.values()].map((l): GroupLink => ({
        itemId: l.item_id,
        linkedItemId: l.linked_item_id,
        origin: l.origin,
        confidence: Number(l.confidence),
      })),
      rejections.map((r) => [r.item_id, r.linked_item_id] as const),
    );

    // An anchor without a live entry gets one: new, or its tombstone revived (same upsert).
    const anchors = new Set(groups.map((g) => g.id));
    const writes: { id: string; members: string[]; gone: boolean }[] = [];
    const moved: { item: string; entry: string }[] = [];
    for (const group of groups) {
      const old = oldEntries.get(group.id);
      const same =
        old !== undefined &&
        sameMembers(old, group.members) &&
        !group.members.some((m) => changed.has(m));
      if (!same) writes.push({ id: group.id, members: group.members, gone: false });
      for (const m of group.members) {
        if (membership.get(m) !== group.id) moved.push({ item: m, entry: group.id });
      }
    }
    for (const [id, members] of oldEntries) {
      if (!anchors.has(id)) writes.push({ id, members: [...members].sort(compare), gone: true });
    }
    const liveIds = new Set(live.map((r) => r.id));
    const left = [...membership.keys()].filter((id) => !liveIds.has(id));
    if (left.length > 0) await manager.query(DELETE_MEMBERSHIP_SQL, [left]);
    if (moved.length > 0) {
      await manager.query(UPSERT_MEMBERSHIP_SQL, [
        userId,
        moved.map((m) => m.item),
        moved.map((m) => m.entry),
      ]);
    }
    if (writes.length === 0) return none;

    writes.sort((a, b) => compare(a.id, b.id));
    await manager.query(LOCK_MERGED_FEED_SQL, [userId]);
    await manager.query(WRITE_ENTRIES_SQL, [userId, JSON.stringify(writes)]);
    const change: MergedEntriesChange = {
      userId,
      changedEntryIds: writes.filter((w) => !w.gone).map((w) => w.id),
      removedEntryIds: writes.filter((w) => w.gone).map((w) => w.id),
    };
    for (const hook of this.hooks) await hook.afterEntriesChanged(manager, change);
    return change;
  }
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sorted = [...a].sort(compare);
  return sorted.every((id, i) => id === b[i]);
}
