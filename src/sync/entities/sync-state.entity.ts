import {
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { Connection } from '../../auth/entities/connection.entity.js';
import type { SyncCursor } from '@pdeck/integration-sdk';

export type ResourceStatus = 'ok' | 'error' | 'permission' | 'not_found';

/**
 * The sync state machine of one resource (a calendar, a board, a Jira site, a channel) of one
 * connection. The cursor commits in the same transaction as the items of its page.
 */
@Entity({ name: 'sync_states' })
@Index('uq_sync_states_connection_resource', ['connectionId', 'resourceId'], { unique: true })
export class SyncState {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'PK_sync_states' })
  id: string;

  @Column('uuid', { name: 'connection_id' })
  connectionId: string;

  /** ON DELETE CASCADE (migration 1796800000000): the row goes with its connection. Never loaded. */
  @ManyToOne('Connection', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'connection_id', foreignKeyConstraintName: 'fk_sync_states_connection' })
  connection?: Pick<Connection, 'id'>;

  @Column('text', { name: 'resource_id' })
  resourceId: string;

  @Column('text', { name: 'resource_name', nullable: true })
  resourceName: string | null;

  /** Provider cursor; null = the next pass is a full one from the start. */
  @Column('jsonb', { nullable: true })
  cursor: SyncCursor | null;

  /** `full` while a full pass is in progress (its cursor holds the page position), else `incremental`. */
  @Column('text', { default: 'full' })
  stage: 'full' | 'incremental';

  @Column('text', { default: 'ok' })
  status: ResourceStatus;

  /** Generation of the current full pass; items seen in it carry it, for the deletion sweep. */
  @Column('integer', { default: 0 })
  generation: number;

  /**
   * items change_seq when the current full pass started: the sweep keeps rows changed after it
   * (a webhook may create an item that the pass's listing already went past).
   */
  @Column('bigint', { name: 'pass_start_seq', nullable: true })
  passStartSeq: string | null;

  @Column('integer', { name: 'failure_count', default: 0 })
  failureCount: number;

  @Column('timestamptz', { name: 'next_run_at', nullable: true })
  nextRunAt: Date | null;

  @Column('timestamptz', { name: 'last_success_at', nullable: true })
  lastSuccessAt: Date | null;

  @Column('text', { name: 'last_error', nullable: true })
  lastError: string | null;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
