import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export type AdminAction =
  | 'sign_in'
  | 'sign_out'
  | 'sync_now'
  | 'full_resync'
  | 'pause'
  | 'resume'
  | 'disconnect'
  | 'issue_mute'
  | 'issue_unmute';

export interface AuditRow {
  id: string;
  tokenId: string;
  action: string;
  connectionId: string | null;
  detail: Record<string, unknown>;
  at: string;
}

/** The console's audit log (admin_audit): one row per action, by token id, never the token. */
@Injectable()
export class AdminAuditService {
  constructor(private readonly dataSource: DataSource) {}

  async record(
    tokenId: string,
    action: AdminAction,
    connectionId: string | null,
    detail: Record<string, unknown> = {},
  ): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO admin_audit (id, token_id, action, connection_id, detail) VALUES ($1, $2, $3, $4, $5)`,
      [randomUUID(), tokenId, action, connectionId, JSON.stringify(detail)],
    );
  }

  async forConnection(connectionId: string, limit = 50): Promise<AuditRow[]> {
    const rows = (await this.dataSource.query(
      `SELECT id, token_id, action, connection_id, detail, at FROM admin_audit
       WHERE connection_id = $1 ORDER BY at DESC LIMIT $2`,
      [connectionId, limit],
    )) as {
      id: string;
      token_id: string;
      action: string;
      connection_id: string | null;
      detail: Record<string, unknown>;
      at: Date;
    }[];
    return rows.map((r) => ({
      id: r.id,
      tokenId: r.token_id,
      action: r.action,
      connectionId: r.connection_id,
      detail: r.detail,
      at: r.at.toISOString(),
    }));
  }
}
