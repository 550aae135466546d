import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One action taken in the operator console (/admin): who (the id of the internal API token the
 * session was opened with, never the token), what, on which connection, when. No foreign key to
 * connections on purpose: the record outlives a purged connection.
 */
@Entity({ name: 'admin_audit' })
@Index('ix_admin_audit_connection_at', ['connectionId', 'at'])
export class AdminAuditEntry {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'PK_admin_audit' })
  id: string;

  @Column('text', { name: 'token_id' })
  tokenId: string;

  /** sync_now | full_resync | pause | resume | disconnect | sign_in | sign_out */
  @Column('text')
  action: string;

  @Column('uuid', { name: 'connection_id', nullable: true })
  connectionId: string | null;

  /** Ids and outcomes only (a sync run id, a reason), never token material. */
  @Column('jsonb', { default: () => "'{}'" })
  detail: Record<string, unknown>;

  @Column('timestamptz', { default: () => 'now()' })
  at: Date;
}
