import { ConflictException, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** 409 `paused`: a manual sync of a paused connection (resume it first). */
export class ConnectionPausedError extends ConflictException {
  constructor(reason: string | null) {
    super({
      statusCode: 409,
      error: 'paused',
      message: `Connection is paused (${reason ?? 'no reason given'}); resume it before syncing`,
    });
  }
}

export interface PauseRow {
  connectionId: string;
  pausedAt: Date | null;
  pausedReason: string | null;
  pausedBy: string | null;
  resumedAt: Date | null;
}

/**
 * Reads and writes connection_pauses. Depends on Postgres only, so Sync (scheduler, trigger) can
 * ask whether a connection is paused without depending on the health module's other services.
 */
@Injectable()
export class PauseStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async get(connectionId: string): Promise<PauseRow | null> {
    const [row] = await this.dataSource.query<PauseRow[]>(
      `SELECT connection_id AS "connectionId", paused_at AS "pausedAt", paused_reason AS "pausedReason",
         paused_by AS "pausedBy", resumed_at AS "resumedAt"
       FROM connection_pauses WHERE connection_id = $1`,
      [connectionId],
    );
    return row ?? null;
  }

  async isPaused(connectionId: string): Promise<boolean> {
    return (await this.get(connectionId))?.pausedAt != null;
  }

  /** The paused ones among all connections (the scheduler reconcile skips them). */
  async pausedIds(): Promise<Set<string>> {
    const rows = await this.dataSource.query<{ connection_id: string }[]>(
      'SELECT connection_id FROM connection_pauses WHERE paused_at IS NOT NULL',
    );
    return new Set(rows.map((r) => r.connection_id));
  }

  /** Returns false when it was paused already (the first pause and its reason stand). */
  async pause(connectionId: string, reason: string, actor: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `INSERT INTO connection_pauses (connection_id, paused_at, paused_reason, paused_by)
       VALUES ($1, now(), $2, $3)
       ON CONFLICT (connection_id) DO UPDATE SET paused_at = now(), paused_reason = $2, paused_by = $3
         WHERE connection_pauses.paused_at IS NULL
       RETURNING 1`,
      [connectionId, reason.slice(0, 500), actor.slice(0, 200)],
    );
    return rows.length > 0;
  }

  /** Returns false when it was not paused. */
  async resume(connectionId: string, actor: string): Promise<boolean> {
    const [rows] = await this.dataSource.query<[unknown[], number]>(
      `UPDATE connection_pauses SET paused_at = NULL, paused_reason = NULL, paused_by = NULL,
         resumed_at = now(), resumed_by = $2
       WHERE connection_id = $1 AND paused_at IS NOT NULL RETURNING 1`,
      [connectionId, actor.slice(0, 200)],
    );
    return rows.length > 0;
  }
}
