import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
} from 'typeorm';
import type { Item } from './item.entity.js';

/** Two items from different sources that are the same real-world thing (e.g. a Jira issue and its Slack thread). */
@Entity({ name: 'item_links' })
@Index('uq_item_links_pair', ['itemId', 'linkedItemId'], { unique: true })
@Index('ix_item_links_linked_item', ['linkedItemId'])
export class ItemLink {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'PK_item_links' })
  id: string;

  @Column('uuid', { name: 'item_id' })
  itemId: string;

  /** ON DELETE CASCADE (migration 1796800000000): a link goes with either of its items. */
  @ManyToOne('Item', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'item_id', foreignKeyConstraintName: 'fk_item_links_item' })
  item?: Pick<Item, 'id'>;

  @Column('uuid', { name: 'linked_item_id' })
  linkedItemId: string;

  @ManyToOne('Item', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'linked_item_id', foreignKeyConstraintName: 'fk_item_links_linked_item' })
  linkedItem?: Pick<Item, 'id'>;

  @Column('text')
  reason: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
