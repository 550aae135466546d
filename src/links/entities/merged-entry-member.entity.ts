import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { Item } from '../../items/entities/item.entity.js';

/**
 * Which live entry each item belongs to: the inverse of merged_entries.member_ids, kept by the
 * same writer in the same transaction. The linker looks entries up by item through this primary
 * key (a batch of ids, one index probe each) rather than by searching the member arrays.
 * Cascades with its item, so a purged item leaves no row.
 */
@Entity({ name: 'merged_entry_members' })
export class MergedEntryMember {
  @PrimaryColumn('uuid', { name: 'item_id', primaryKeyConstraintName: 'PK_merged_entry_members' })
  itemId: string;

  @ManyToOne('Item', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'item_id', foreignKeyConstraintName: 'fk_merged_entry_members_item' })
  item?: Pick<Item, 'id'>;

  @Column('uuid', { name: 'entry_id' })
  entryId: string;

  @Column('text', { name: 'user_id' })
  userId: string;
}
