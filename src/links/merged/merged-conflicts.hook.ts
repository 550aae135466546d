import { createHash } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { PdeckNotifier } from '../../events/pdeck-notifier.service.js';
import type { MergedEntriesChange, MergedEntryHook } from '../merged-entry-hooks.js';
import type { MergeConflict } from './merge-policy.js';
import { MergePolicyService } from './merge-policy.service.js';
import { loadMembers } from './merged-members.js';

interface EntryRow {
  id: string;
  member_ids: string[];
  conflict_keys: string[];
}

/**
 * A conflict's identity: its field and every disagreeing member's value, sorted, hashed (the
 * column holds no item content). The same disagreement seen again has the same key; a changed
 * value makes it a new conflict.
 */
export function conflictKey(conflict: MergeConflict): string {
  const values = conflict.values.map((v) => `${v.itemId}=${v.value}`).sort();
  return createHash('sha256')
    .update([conflict.field, ...values].join('\u0000'))
    .digest('hex')
    .slice(0, 32);
}

/**
 * Conflict tracking of the merged view, registered under MERGED_ENTRY_HOOKS: the detector calls
 * it in the transaction that rewrote a user's entries. For each changed entry it computes the
 * conflicts with the precedence policy and records one `items.conflict` for the conflicts whose
 * key is not in `conflict_keys` yet, then stores the current keys. So a conflict is notified
 * once; one that resolves drops out of the set, and if it comes back it is notified again. A
 * dissolved entry forgets its keys (its group may form again later, with its conflicts).
 */
@Injectable()
export class MergedConflictsHook implements MergedEntryHook {
  private readonly logger = new Logger(MergedConflictsHook.name);

  constructor(
    private readonly policy: MergePolicyService,
    private readonly notifier: PdeckNotifier,
  ) {}

  async afterEntriesChanged(manager: EntityManager, change: MergedEntriesChange): Promise<void> {
    const { userId } = change;
    if (change.removedEntryIds.length > 0) {
      await manager.query(
        `UPDATE merged_entries SET conflict_keys = '{}'
         WHERE user_id = $1 AND id = ANY($2::uuid[]) AND deleted_at IS NOT NULL
           AND cardinality(conflict_keys) > 0`,
        [userId, [...change.removedEntryIds]],
      );
    }
    if (change.changedEntryIds.length === 0) return;
    const entries = await manager.query<EntryRow[]>(
      `SELECT id, member_ids, conflict_keys FROM merged_entries
       WHERE user_id = $1 AND id = ANY($2::uuid[]) AND deleted_at IS NULL
       ORDER BY id FOR UPDATE`,
      [userId, [...change.changedEntryIds]],
    );
    // Single-member entries cannot disagree with themselves; only groups are read further.
    const groups = entries.filter((e) => e.member_ids.length > 1 || e.conflict_keys.length > 0);
    if (groups.length === 0) return;
    const members = await loadMembers(
      manager,
      userId,
      groups.flatMap((e) => e.member_ids),
    );
    for (const entry of groups) {
      const found = entry.member_ids.flatMap((id) => members.get(id) ?? []);
      const conflicts = found.length > 1 ? this.policy.merge(found).conflicts : [];
      const keyed = conflicts.map((conflict) => ({ conflict, key: conflictKey(conflict) }));
      const known = new Set(entry.conflict_keys);
      const fresh = keyed.filter(({ key }) => !known.has(key));
      if (fresh.length > 0) {
        const itemIds = [
          ...new Set(fresh.flatMap(({ conflict }) => conflict.values.map((v) => v.itemId))),
        ].sort();
        const fields = [...new Set(fresh.map(({ conflict }) => conflict.field))];
        await this.notifier.record(manager, 'items.conflict', {
          userId,
          entryId: entry.id,
          itemIds,
          fields,
        });
        this.logger.log({ msg: 'merged entry conflict', userId, entryId: entry.id, fields });
      }
      const keys = keyed.map(({ key }) => key).sort();
      if (!sameSet(keys, entry.conflict_keys)) {
        await manager.query(`UPDATE merged_entries SET conflict_keys = $2 WHERE id = $1`, [
          entry.id,
          keys,
        ]);
      }
    }
  }
}

function sameSet(sorted: readonly string[], stored: readonly string[]): boolean {
  const other = [...stored].sort();
  return sorted.length === other.length && sorted.every((key, i) => key === other[i]);
}
