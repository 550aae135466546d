import { Column, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * One real-world thing of a user: a group of linked items, or a single item (docs/cross-source.md,
 * "Groups"). Every live item has exactly one live entry. The id is the smallest member item id,
 * so it does not depend on the order items arrived in. `change_seq` comes from the
 * `merged_change_seq` sequence, allocated under the user's `merged-feed:` lock like items.
 */
@Entity({ name: 'merged_entries' })
@Index('ix_merged_entries_user_change_seq', ['userId', 'changeSeq'])
export class MergedEntry {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'PK_merged_entries' })
  id: string;

  @Column('text', { name: 'user_id' })
  userId: string;

  /** Member item ids, sorted; a tombstone keeps the members it had last. Inverse: merged_entry_members. */
  @Column('uuid', { name: 'member_ids', array: true })
  memberIds: string[];

  @Column('bigint', { name: 'change_seq' })
  changeSeq: string;

  @Column('timestamptz', { name: 'deleted_at', nullable: true })
  deletedAt: Date | null;

  /** Fingerprints of the conflicts already notified; written by the merged view's hook. */
  @Column('text', { name: 'conflict_keys', array: true, default: () => "'{}'" })
  conflictKeys: string[];

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
