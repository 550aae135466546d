import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
} from 'typeorm';
import type { Connection } from '../../auth/entities/connection.entity.js';

export type SyncRunStatus = 'queued' | 'running' | 'succeeded' | 'partial' | 'failed';

/** How one resource (a calendar, a board) fared in a run; failures say why in words. */
export interface SyncRunResource {
  resourceId: string;
  resourceName: string;
  outcome: 'succeeded' | 'skipped' | 'failed';
  /** ProviderError code (NOT_FOUND, PERMISSION, ...) when not succeeded. */
  errorCode?: string;
  errorMessage?: string;
  /** The provider operation that failed, e.g. 'boards.members'. */
  operation?: string;
}

/** History of syncs: what ran, why, how long, what it changed and how it ended. */
@Entity({ name: 'sync_runs' })
@Index('ix_sync_runs_connection_created', ['connectionId', 'createdAt'])
export class SyncRun {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'PK_sync_runs' })
  id: string;

  @Column('uuid', { name: 'connection_id' })
  connectionId: string;

  /** ON DELETE CASCADE (migration 1796800000000): the row goes with its connection. Never loaded. */
  @ManyToOne('Connection', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'connection_id', foreignKeyConstraintName: 'fk_sync_runs_connection' })
  connection?: Pick<Connection, 'id'>;

  @Column('text')
  mode: 'full' | 'incremental';

  /** schedule | manual | webhook */
  @Column('text', { default: 'manual' })
  trigger: string;

  @Column('text', { default: 'queued' })
  status: SyncRunStatus;

  @Column('timestamptz', { name: 'started_at', nullable: true })
  startedAt: Date | null;

  @Column('timestamptz', { name: 'finished_at', nullable: true })
  finishedAt: Date | null;

  @Column('integer', { default: 0 })
  fetched: number;

  @Column('integer', { default: 0 })
  upserted: number;

  @Column('integer', { default: 0 })
  deleted: number;

  @Column('integer', { default: 0 })
  unchanged: number;

  @Column('text', { name: 'error_code', nullable: true })
  errorCode: string | null;

  @Column('text', { name: 'error_message', nullable: true })
  errorMessage: string | null;

  /** One entry per resource the run reached, kept across a resume after a rate limit. */
  @Column('jsonb', { default: () => "'[]'" })
  resources: SyncRunResource[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
