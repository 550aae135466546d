import {
  Check,
  CreateDateColumn,
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
} from 'typeorm';
import type { Item } from '../../items/entities/item.entity.js';

/**
 * "Not the same": a pair a user split (DELETE /v1/item-links/:id). Detection never links it
 * again; a manual join of the pair removes the row. Smaller id first, like item_links.
 */
@Entity({ name: 'item_link_rejections' })
@Index('ix_item_link_rejections_linked_item', ['linkedItemId'])
@Check('ck_item_link_rejections_pair_order', `"item_id" < "linked_item_id"`)
export class ItemLinkRejection {
  @PrimaryColumn('uuid', { name: 'item_id', primaryKeyConstraintName: 'PK_item_link_rejections' })
  itemId: string;

  @PrimaryColumn('uuid', {
    name: 'linked_item_id',
    primaryKeyConstraintName: 'PK_item_link_rejections',
  })
  linkedItemId: string;

  @ManyToOne('Item', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'item_id', foreignKeyConstraintName: 'fk_item_link_rejections_item' })
  item?: Pick<Item, 'id'>;

  @ManyToOne('Item', { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'linked_item_id',
    foreignKeyConstraintName: 'fk_item_link_rejections_linked_item',
  })
  linkedItem?: Pick<Item, 'id'>;

  @Column('text', { name: 'user_id' })
  userId: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
