import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A user whose items were deleted for good (a connection purged): written by a trigger on
 * `items` (migration 1797400000000), read and removed by the link detector, which then repairs
 * the user's merged entries that lost members. Plain inserts without a unique key, so the
 * trigger never waits on the detector.
 */
@Entity({ name: 'link_rechecks' })
@Index('ix_link_rechecks_user', ['userId'])
export class LinkRecheck {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'PK_link_rechecks' })
  id: string;

  @Column('text', { name: 'user_id' })
  userId: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
