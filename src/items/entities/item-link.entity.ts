import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** Two items from different sources that are the same real-world thing (e.g. a Jira issue and its Slack thread). */
@Entity({ name: 'item_links' })
@Index('uq_item_links_pair', ['itemId', 'linkedItemId'], { unique: true })
export class ItemLink {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'PK_item_links' })
  id: string;

  @Column('uuid', { name: 'item_id' })
  itemId: string;

  @Column('uuid', { name: 'linked_item_id' })
  linkedItemId: string;

  @Column('text')
  reason: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
