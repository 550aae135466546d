import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { Connection } from '../../auth/entities/connection.entity.js';

/**
 * A connection's pause, beside the connection rather than in its status: the status machine
 * (pending, active, needs_reauth, ...) goes on as before, and a paused connection keeps its
 * status. Paused while `paused_at` is set; a resume clears it and records when, so auto-pause
 * waits a full period again before pausing the same connection.
 */
@Entity({ name: 'connection_pauses' })
export class ConnectionPause {
  @PrimaryColumn('uuid', {
    name: 'connection_id',
    primaryKeyConstraintName: 'PK_connection_pauses',
  })
  connectionId: string;

  /** ON DELETE CASCADE: the pause goes with its connection. Never loaded. */
  @ManyToOne('Connection', { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'connection_id',
    foreignKeyConstraintName: 'fk_connection_pauses_connection',
  })
  connection?: Pick<Connection, 'id'>;

  @Column('timestamptz', { name: 'paused_at', nullable: true })
  pausedAt: Date | null;

  @Column('text', { name: 'paused_reason', nullable: true })
  pausedReason: string | null;

  /** Who paused it: `auto` (the evaluation) or the operator's name. */
  @Column('text', { name: 'paused_by', nullable: true })
  pausedBy: string | null;

  @Column('timestamptz', { name: 'resumed_at', nullable: true })
  resumedAt: Date | null;

  @Column('text', { name: 'resumed_by', nullable: true })
  resumedBy: string | null;
}
