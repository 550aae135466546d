import type { EntityManager } from 'typeorm';

/**
 * Code that must run when merged entries change (conflict tracking, for instance). The link
 * detector calls every hook registered under MERGED_ENTRY_HOOKS inside the transaction that
 * rewrote the entries, after the rows are written, so a hook reads the entries' new members and
 * anything it records (an outbox notification, a column of merged_entries) commits or rolls back
 * with them.
 */
export const MERGED_ENTRY_HOOKS = Symbol('MERGED_ENTRY_HOOKS');

export interface MergedEntriesChange {
  userId: string;
  /** Live entries whose members or whose members' content changed in this transaction. */
  changedEntryIds: readonly string[];
  /** Entries tombstoned in this transaction (their group dissolved or took another anchor). */
  removedEntryIds: readonly string[];
}

export interface MergedEntryHook {
  afterEntriesChanged(manager: EntityManager, change: MergedEntriesChange): Promise<void>;
}
