import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { Connection } from '../../auth/entities/connection.entity.js';

export const ISSUE_TYPES = [
  'auth',
  'sync',
  'webhook_subscription',
  'rate_limited',
  'resource_access',
] as const;
export type IssueType = (typeof ISSUE_TYPES)[number];

export const ISSUE_STATUSES = ['open', 'resolved'] as const;
export type IssueStatus = (typeof ISSUE_STATUSES)[number];

/**
 * Something wrong with a connection that lasts: at most one open row per (connection, type)
 * (partial unique index), bumped while it goes on and resolved after a quiet period. Resolved
 * rows stay as history. Words only in last_error and note: never tokens or provider bodies.
 */
@Entity({ name: 'connection_issues' })
@Index('uq_connection_issues_open', ['connectionId', 'type'], {
  unique: true,
  where: `"status" = 'open'`,
})
@Index('ix_connection_issues_status_provider', ['status', 'provider', 'id'])
export class ConnectionIssueEntity {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'PK_connection_issues' })
  id: string;

  @Column('uuid', { name: 'connection_id' })
  connectionId: string;

  /** ON DELETE CASCADE: the history goes with its connection. Never loaded. */
  @ManyToOne('Connection', { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'connection_id',
    foreignKeyConstraintName: 'fk_connection_issues_connection',
  })
  connection?: Pick<Connection, 'id'>;

  @Column('text', { name: 'user_id' })
  userId: string;

  @Column('text')
  provider: string;

  @Column('text')
  type: IssueType;

  @Column('text', { default: 'open' })
  status: IssueStatus;

  /** A muted issue sends no notification (it still opens, counts and resolves). */
  @Column('boolean', { default: false })
  muted: boolean;

  @Column('timestamptz', { name: 'first_seen_at' })
  firstSeenAt: Date;

  @Column('timestamptz', { name: 'last_seen_at' })
  lastSeenAt: Date;

  @Column('integer', { default: 1 })
  count: number;

  @Column('text', { name: 'last_error', nullable: true })
  lastError: string | null;

  /** What the service did about it, in words (e.g. the connection was paused). */
  @Column('text', { nullable: true })
  note: string | null;

  @Column('timestamptz', { name: 'resolved_at', nullable: true })
  resolvedAt: Date | null;
}
