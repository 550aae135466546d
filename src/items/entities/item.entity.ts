import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { Connection } from '../../auth/entities/connection.entity.js';
import type { ItemKind } from '@pdeck/integration-sdk';

/**
 * The normalized item (event, task or message). Written only by the versioned page upsert in
 * ItemsRepository; `change_seq` comes from the `items_change_seq` sequence on every real change.
 */
@Entity({ name: 'items' })
@Index('uq_items_connection_kind_external', ['connectionId', 'kind', 'externalId'], {
  unique: true,
})
@Index('ix_items_user_change_seq', ['userId', 'changeSeq'])
@Index('ix_items_connection_container', ['connectionId', 'containerId'])
export class Item {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'PK_items' })
  id: string;

  @Column('text', { name: 'user_id' })
  userId: string;

  @Column('uuid', { name: 'connection_id' })
  connectionId: string;

  /** ON DELETE CASCADE (migration 1796800000000): the row goes with its connection. Never loaded. */
  @ManyToOne('Connection', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'connection_id', foreignKeyConstraintName: 'fk_items_connection' })
  connection?: Pick<Connection, 'id'>;

  @Column('text')
  provider: string;

  @Column('text')
  kind: ItemKind;

  @Column('text', { name: 'external_id' })
  externalId: string;

  @Column('text', { name: 'container_id', nullable: true })
  containerId: string | null;

  @Column('text', { name: 'container_name', nullable: true })
  containerName: string | null;

  @Column('text', { nullable: true })
  title: string | null;

  @Column('text', { nullable: true })
  body: string | null;

  @Column('text', { nullable: true })
  status: string | null;

  @Column('timestamptz', { name: 'starts_at', nullable: true })
  startsAt: Date | null;

  @Column('timestamptz', { name: 'ends_at', nullable: true })
  endsAt: Date | null;

  @Column('boolean', { name: 'all_day', default: false })
  allDay: boolean;

  @Column('timestamptz', { name: 'due_at', nullable: true })
  dueAt: Date | null;

  @Column('text', { nullable: true })
  url: string | null;

  @Column('text', { array: true, default: () => "'{}'" })
  assignees: string[];

  /** Who the item is from, in words (a message's author); null when the provider does not say. */
  @Column('text', { nullable: true })
  author: string | null;

  @Column('text', { array: true, default: () => "'{}'" })
  labels: string[];

  @Column('timestamptz', { name: 'external_updated_at', nullable: true })
  externalUpdatedAt: Date | null;

  /** Provider version, compared as text of equal width (see items.repository.ts). */
  @Column('text', { name: 'external_version' })
  externalVersion: string;

  @Column('timestamptz', { name: 'deleted_at', nullable: true })
  deletedAt: Date | null;

  @Column('jsonb', { default: () => "'{}'" })
  raw: unknown;

  /** Full-pass generation in which the item was last seen (deletion sweep). */
  @Column('integer', { name: 'seen_generation', default: 0 })
  seenGeneration: number;

  @Column('bigint', { name: 'change_seq' })
  changeSeq: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
