import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { Item } from '../../items/entities/item.entity.js';
import type { LinkEvidenceRole } from '@pdeck/integration-sdk';

/**
 * What a live item says about its identity (its provider's linkEvidence), as the link detector
 * last computed it: replaced whenever the item changes, removed when it is deleted. Matching
 * goes by (user_id, key).
 */
@Entity({ name: 'item_link_evidence' })
@Index('ix_item_link_evidence_user_key', ['userId', 'key'])
export class ItemLinkEvidence {
  @PrimaryColumn('uuid', { name: 'item_id', primaryKeyConstraintName: 'PK_item_link_evidence' })
  itemId: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'PK_item_link_evidence' })
  key: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'PK_item_link_evidence' })
  role: LinkEvidenceRole;

  @ManyToOne('Item', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'item_id', foreignKeyConstraintName: 'fk_item_link_evidence_item' })
  item?: Pick<Item, 'id'>;

  @Column('text', { name: 'user_id' })
  userId: string;

  @Column('text', { nullable: true })
  qualifier: string | null;
}
