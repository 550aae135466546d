import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { SyncRun, type SyncRunResource, type SyncRunStatus } from './entities/sync-run.entity.js';
import type { SyncTrigger } from './sync.constants.js';

export interface PageCounts {
  fetched: number;
  upserted: number;
  deleted: number;
  unchanged: number;
}

/**
 * Connection ids that have runs, in order, after $1 (NULL: from the first), at most $2: a loose
 * index scan over (connection_id, created_at), one index probe per connection instead of reading
 * every run.
 */
const CONNECTIONS_WITH_RUNS_SQL = `WITH RECURSIVE conns AS (
    (SELECT connection_id FROM sync_runs WHERE $1::uuid IS NULL OR connection_id > $1::uuid
      ORDER BY connection_id LIMIT 1)
    UNION ALL
    SELECT (SELECT r.connection_id FROM sync_runs r WHERE r.connection_id > conns.connection_id
      ORDER BY r.connection_id LIMIT 1)
    FROM conns WHERE conns.connection_id IS NOT NULL)
  SELECT connection_id FROM conns WHERE connection_id IS NOT NULL LIMIT $2`;

/**
 * Deletes up to $4 runs of the connections $1 that are outside both kept sets: not among their
 * connection's newest $2 (at or before the ($2+1)-th newest, `edge`) and created more than $3
 * days ago. Queued and running runs are never deleted.
 */
const DELETE_EXPIRED_RUNS_SQL = `WITH doomed AS (
    SELECT old.id FROM unnest($1::uuid[]) AS c(connection_id)
    CROSS JOIN LATERAL (
      SELECT created_at, id FROM sync_runs k WHERE k.connection_id = c.connection_id
      ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1) AS edge
    CROSS JOIN LATERAL (
      SELECT o.id FROM sync_runs o
      WHERE o.connection_id = c.connection_id
        AND (o.created_at, o.id) <= (edge.created_at, edge.id)
        AND o.created_at < now() - make_interval(days => $3)
        AND o.status NOT IN ('queued', 'running')
      LIMIT $4) AS old
    LIMIT $4),
  gone AS (DELETE FROM sync_runs r USING doomed WHERE r.id = doomed.id RETURNING 1)
SELECT count(*)::int AS n FROM gone`;

/** The sync_runs history: created when a sync is requested, counted per committed page. */
/** How a run that reached its end went, and what it changed. */
export interface FinishedRun {
  outcome: 'succeeded' | 'partial';
  upserted: number;
  deleted: number;
}

/** The run's `resources` with the entry for resource $2 replaced by $3 (kept in order, once). */
const MERGED_RESOURCES = `COALESCE(
  (SELECT jsonb_agg(r ORDER BY ord) FROM jsonb_array_elements(resources) WITH ORDINALITY AS e(r, ord)
   WHERE r->>'resourceId' <> $2), '[]'::jsonb) || jsonb_build_array($3::jsonb)`;

@Injectable()
export class SyncRunsService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async createQueued(
    id: string,
    connectionId: string,
    mode: 'full' | 'incremental',
    trigger: SyncTrigger,
  ): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO sync_runs (id, connection_id, mode, trigger, status) VALUES ($1, $2, $3, $4, 'queued')
       ON CONFLICT (id) DO NOTHING`,
      [id, connectionId, mode, trigger],
    );
  }

  /**
   * Idempotent: a retried or resumed job marks the same run running again. Per-resource outcomes
   * recorded before (a resume after a rate limit) are kept: the run's final outcome covers them.
   */
  async markRunning(
    id: string,
    connectionId: string,
    mode: 'full' | 'incremental',
    trigger: SyncTrigger,
  ): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO sync_runs (id, connection_id, mode, trigger, status, started_at) VALUES ($1, $2, $3, $4, 'running', now())
       ON CONFLICT (id) DO UPDATE SET status = 'running', mode = EXCLUDED.mode, started_at = COALESCE(sync_runs.started_at, now()),
         error_code = NULL, error_message = NULL`,
      [id, connectionId, mode, trigger],
    );
  }

  /** Inside the page transaction, so counts never include a rolled-back page. */
  async addCounts(manager: EntityManager, id: string, c: PageCounts): Promise<void> {
    await manager.query(
      `UPDATE sync_runs SET fetched = fetched + $2, upserted = upserted + $3, deleted = deleted + $4, unchanged = unchanged + $5
       WHERE id = $1`,
      [id, c.fetched, c.upserted, c.deleted, c.unchanged],
    );
  }

  /** Records how one resource fared; a second record of the same resource replaces the first. */
  async recordResource(id: string, entry: SyncRunResource): Promise<void> {
    await this.dataSource.query(
      `UPDATE sync_runs SET resources = ${MERGED_RESOURCES} WHERE id = $1`,
      [id, entry.resourceId, JSON.stringify(entry)],
    );
  }

  /** A resource synced: its state is healthy again and the run records it, in one statement. */
  async recordSucceeded(id: string, stateId: string, entry: SyncRunResource): Promise<void> {
    await this.dataSource.query(
      `WITH state AS (
         UPDATE sync_states SET status = 'ok', failure_count = 0, last_error = NULL,
           last_success_at = now(), updated_at = now()
         WHERE id = $4)
       UPDATE sync_runs SET resources = ${MERGED_RESOURCES} WHERE id = $1`,
      [id, entry.resourceId, JSON.stringify(entry), stateId],
    );
  }

  /**
   * Ends a run that reached its end: `succeeded` when every resource it recorded succeeded,
   * `partial` otherwise, with the first failure's code and a summary of every failure in words.
   * One statement: most runs of a deployment find nothing new, and this is their last step.
   */
  async finishFromResources(id: string): Promise<FinishedRun> {
    const [rows] = await this.dataSource.query<[FinishedRun[], number]>(
      `WITH f AS (
         SELECT count(*) FILTER (WHERE r->>'outcome' <> 'succeeded') AS failed, count(*) AS total,
           (array_agg(coalesce(r->>'errorCode', 'UNKNOWN') ORDER BY ord)
             FILTER (WHERE r->>'outcome' <> 'succeeded'))[1] AS code,
           string_agg(format('"%s": %s', r->>'resourceName', coalesce(r->>'errorMessage', r->>'outcome')), '; ' ORDER BY ord)
             FILTER (WHERE r->>'outcome' <> 'succeeded') AS details
         FROM sync_runs, jsonb_array_elements(coalesce(resources, '[]'::jsonb)) WITH ORDINALITY AS e(r, ord)
         WHERE id = $1)
       UPDATE sync_runs SET status = CASE WHEN f.failed = 0 THEN 'succeeded' ELSE 'partial' END,
         finished_at = now(),
         error_code = CASE WHEN f.failed = 0 THEN NULL ELSE f.code END,
         error_message = CASE WHEN f.failed = 0 THEN NULL
           ELSE left(format('%s of %s resources not synced. %s', f.failed, f.total, f.details), 1000) END
       FROM f WHERE sync_runs.id = $1
       RETURNING sync_runs.status AS outcome, sync_runs.upserted, sync_runs.deleted`,
      [id],
    );
    return rows[0] ?? { outcome: 'succeeded', upserted: 0, deleted: 0 };
  }

  async finish(
    id: string,
    status: SyncRunStatus,
    error?: { code: string; message: string },
  ): Promise<void> {
    await this.dataSource.query(
      `UPDATE sync_runs SET status = $2, finished_at = now(), error_code = $3, error_message = $4 WHERE id = $1`,
      [id, status, error?.code ?? null, error?.message.slice(0, 1000) ?? null],
    );
  }

  /** Requests answered by run `id` end as it did (only those still waiting for it). */
  async finishCovered(id: string, covered: string[] | undefined): Promise<void> {
    if (!covered?.length) return;
    await this.dataSource.query(
      `UPDATE sync_runs r SET status = m.status, started_at = m.started_at, finished_at = m.finished_at,
         error_code = m.error_code, error_message = m.error_message
       FROM sync_runs m WHERE m.id = $1 AND r.id = ANY($2::uuid[]) AND r.status = 'queued'`,
      [id, covered],
    );
  }

  get(id: string): Promise<SyncRun | null> {
    return this.dataSource.getRepository(SyncRun).findOneBy({ id });
  }

  list(connectionId: string, limit = 50): Promise<SyncRun[]> {
    return this.dataSource.getRepository(SyncRun).find({
      where: { connectionId },
      order: { createdAt: 'DESC' },
      take: limit,
    });
  }

  /** Retention: up to `limit` connection ids with runs, in id order, after `after`. */
  async connectionsWithRuns(after: string | null, limit: number): Promise<string[]> {
    const rows = await this.dataSource.query<{ connection_id: string }[]>(
      CONNECTIONS_WITH_RUNS_SQL,
      [after, limit],
    );
    return rows.map((r) => r.connection_id);
  }

  /**
   * Retention: deletes up to `batch` runs of these connections that are neither among their
   * connection's newest `keep` nor younger than `days` days; never a queued or running one.
   */
  async deleteExpired(
    connectionIds: readonly string[],
    keep: number,
    days: number,
    batch: number,
  ): Promise<number> {
    const [row] = await this.dataSource.query<{ n: number }[]>(DELETE_EXPIRED_RUNS_SQL, [
      connectionIds,
      keep,
      days,
      batch,
    ]);
    return row?.n ?? 0;
  }
}
