import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** Per user: the items.change_seq up to which the link detector has processed the user's items. */
@Entity({ name: 'link_cursors' })
export class LinkCursor {
  @PrimaryColumn('text', { name: 'user_id', primaryKeyConstraintName: 'PK_link_cursors' })
  userId: string;

  @Column('bigint', { name: 'change_seq', default: 0 })
  changeSeq: string;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
