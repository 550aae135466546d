import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { asEntities, entitySelect } from '../core/database/entity-select.js';
import { CURRENT_CHANGE_SEQ_EXPR } from '../items/item-page.sql.js';
import type { SyncCursor, SyncResource } from '@pdeck/integration-sdk';
import { SyncState, type ResourceStatus } from './entities/sync-state.entity.js';

/**
 * Performs the transitions of a resource's sync state (one row is the state machine), except
 * "synced": that one is written with the run's record of the resource, in one statement
 * (SyncRunsService.recordSucceeded). A run reads the rows when it starts; nothing outlives a run.
 */
@Injectable()
export class SyncStateService {
  private selectAll?: string;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Creates rows for resources seen for the first time; refreshes names of known ones. */
  async ensureResources(connectionId: string, resources: SyncResource[]): Promise<void> {
    if (resources.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO sync_states (id, connection_id, resource_id, resource_name)
       SELECT gen_random_uuid(), $1, r.id, r.name FROM unnest($2::text[], $3::text[]) AS r(id, name)
       ON CONFLICT (connection_id, resource_id) DO UPDATE SET resource_name = EXCLUDED.resource_name
       WHERE sync_states.resource_name IS DISTINCT FROM EXCLUDED.resource_name`,
      [connectionId, resources.map((r) => r.id), resources.map((r) => r.name)],
    );
  }

  /** Read at the start of every sync: see entitySelect. */
  async list(connectionId: string): Promise<SyncState[]> {
    const repo = this.dataSource.getRepository(SyncState);
    this.selectAll ??= entitySelect(repo);
    const rows = await repo.query<object[]>(
      `${this.selectAll} WHERE connection_id = $1 ORDER BY resource_id`,
      [connectionId],
    );
    return asEntities(repo, rows);
  }

  /**
   * Starts a new full pass: a fresh generation (for the deletion sweep) and no cursor. A pass that
   * is already in progress (stage `full` with a page cursor) is resumed instead by the caller.
   */
  async startFullPass(state: SyncState): Promise<SyncState> {
    await this.dataSource.query(
      `UPDATE sync_states SET stage = 'full', cursor = NULL, generation = generation + 1, updated_at = now(),
         pass_start_seq = ${CURRENT_CHANGE_SEQ_EXPR}
       WHERE id = $1`,
      [state.id],
    );
    return await this.dataSource.getRepository(SyncState).findOneByOrFail({ id: state.id });
  }

  /** Inside the page transaction: the cursor moves only together with the page's items. */
  async commitCursor(
    manager: EntityManager,
    stateId: string,
    cursor: SyncCursor | null,
    fullPassComplete: boolean,
  ): Promise<void> {
    await manager.query(
      `UPDATE sync_states SET cursor = $2::jsonb,
         stage = CASE WHEN $3 THEN 'incremental' ELSE stage END,
         last_success_at = CASE WHEN $3 THEN now() ELSE last_success_at END,
         updated_at = now()
       WHERE id = $1`,
      [stateId, cursor === null ? null : JSON.stringify(cursor), fullPassComplete],
    );
  }

  async markFailed(stateId: string, status: ResourceStatus, error: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE sync_states SET status = $2, failure_count = failure_count + 1, last_error = $3, updated_at = now()
       WHERE id = $1`,
      [stateId, status, error.slice(0, 1000)],
    );
  }

  /** Inside the caller's transaction: a resource the connection no longer has. */
  async delete(manager: EntityManager, stateId: string): Promise<void> {
    await manager.query('DELETE FROM sync_states WHERE id = $1', [stateId]);
  }

  async removeConnection(connectionId: string): Promise<void> {
    await this.dataSource.query('DELETE FROM sync_states WHERE connection_id = $1', [connectionId]);
  }
}
