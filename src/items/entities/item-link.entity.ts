import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { Item } from './item.entity.js';

/** How a link came to be: found by the link detector, or joined by a person. */
export type ItemLinkOrigin = 'detected' | 'manual';

/**
 * Two items of one user from different sources that are the same real-world thing (a Jira issue
 * and the Slack message about it). Symmetric: one row per unordered pair, stored with the
 * smaller id first. Written by src/links/ (docs/cross-source.md).
 */
@Entity({ name: 'item_links' })
@Index('uq_item_links_pair', ['itemId', 'linkedItemId'], { unique: true })
@Index('ix_item_links_linked_item', ['linkedItemId'])
@Index('ix_item_links_user', ['userId', 'id'])
@Check('ck_item_links_pair_order', `"item_id" < "linked_item_id"`)
@Check('ck_item_links_origin', `"origin" IN ('detected', 'manual')`)
@Check('ck_item_links_confidence', `"confidence" >= 0 AND "confidence" <= 1`)
export class ItemLink {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'PK_item_links' })
  id: string;

  /** The smaller item id of the pair. */
  @Column('uuid', { name: 'item_id' })
  itemId: string;

  /** ON DELETE CASCADE (migration 1796800000000): a link goes with either of its items. */
  @ManyToOne('Item', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'item_id', foreignKeyConstraintName: 'fk_item_links_item' })
  item?: Pick<Item, 'id'>;

  /** The larger item id of the pair. */
  @Column('uuid', { name: 'linked_item_id' })
  linkedItemId: string;

  @ManyToOne('Item', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'linked_item_id', foreignKeyConstraintName: 'fk_item_links_linked_item' })
  linkedItem?: Pick<Item, 'id'>;

  /** Owner of both items. */
  @Column('text', { name: 'user_id' })
  userId: string;

  /** Why, in words. */
  @Column('text')
  reason: string;

  /** 0..1: how sure the detector is (1 for a manual join). */
  @Column('double precision')
  confidence: number;

  @Column('text')
  origin: ItemLinkOrigin;

  /** `{ matches: [{ key, itemRole, linkedItemRole, confidence }] }`: which side had which role. */
  @Column('jsonb', { default: () => `'{"matches": []}'` })
  evidence: unknown;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
