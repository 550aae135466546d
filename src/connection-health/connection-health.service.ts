import { describeProblem } from '../providers/errors/problem-words.js';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Connection } from '../auth/entities/connection.entity.js';
import { ProviderRegistry } from '../providers/provider-registry.js';
import { syncIntervalMinutes } from '../sync/sync-scheduler.service.js';
import { type ConnectionHealth, deriveHealth, FAILING_STREAK, type HealthFacts } from './health.js';

/** Interval assumed for a connection whose integration is no longer registered. */
const FALLBACK_INTERVAL_MINUTES = 60;

interface FactsRow {
  id: string;
  status: string;
  provider: string;
  settings: Record<string, unknown> | null;
  created_at: Date;
  updated_at: Date;
  paused_at: Date | null;
  paused_reason: string | null;
  auth_since: Date | null;
  run_active: boolean;
  last_success_at: Date | null;
  outcomes: ('succeeded' | 'partial' | 'failed')[] | null;
  last_error: string | null;
  last_error_code: string | null;
  failing_since: Date | null;
}

/**
 * Everything deriveHealth needs for a page of connections, in one statement. Each lateral reads
 * one connection's runs through ix_sync_runs_connection_created (retention keeps them few).
 */
const FACTS_SQL = `SELECT c.id, c.status, c.provider, c.settings, c.created_at, c.updated_at,
    p.paused_at, p.paused_reason, a.first_seen_at AS auth_since,
    EXISTS (SELECT 1 FROM sync_runs r WHERE r.connection_id = c.id AND r.status IN ('queued', 'running')) AS run_active,
    s.last_success_at, recent.outcomes, recent.last_error, recent.last_error_code,
    (SELECT min(r.finished_at) FROM sync_runs r WHERE r.connection_id = c.id AND r.status = 'failed'
       AND r.finished_at > coalesce(s.last_success_at, '-infinity'::timestamptz)) AS failing_since
  FROM connections c
  LEFT JOIN connection_pauses p ON p.connection_id = c.id
  LEFT JOIN connection_issues a ON a.connection_id = c.id AND a.type = 'auth' AND a.status = 'open'
  CROSS JOIN LATERAL (SELECT max(r.finished_at) AS last_success_at FROM sync_runs r
    WHERE r.connection_id = c.id AND r.status IN ('succeeded', 'partial')) s
  CROSS JOIN LATERAL (SELECT array_agg(x.status ORDER BY x.finished_at DESC) AS outcomes,
      (array_agg(x.error_message ORDER BY x.finished_at DESC) FILTER (WHERE x.status = 'failed'))[1] AS last_error,
      (array_agg(x.error_code ORDER BY x.finished_at DESC) FILTER (WHERE x.status = 'failed'))[1] AS last_error_code
    FROM (SELECT r.status, r.error_message, r.error_code, r.finished_at FROM sync_runs r
      WHERE r.connection_id = c.id AND r.status IN ('succeeded', 'partial', 'failed') AND r.finished_at IS NOT NULL
      ORDER BY r.finished_at DESC LIMIT ${FAILING_STREAK}) x) recent
  WHERE c.id = ANY($1::uuid[])`;

/** Connection health for the API and the operator console: derived, never stored. */
@Injectable()
export class ConnectionHealthService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly registry: ProviderRegistry,
  ) {}

  /** Health of each of these connections (unknown ids are absent from the map). */
  async forConnections(
    ids: string[],
    now: Date = new Date(),
  ): Promise<Map<string, ConnectionHealth>> {
    const result = new Map<string, ConnectionHealth>();
    if (ids.length === 0) return result;
    const rows = await this.dataSource.query<FactsRow[]>(FACTS_SQL, [ids]);
    for (const row of rows) result.set(row.id, deriveHealth(this.facts(row), now));
    return result;
  }

  private facts(row: FactsRow): HealthFacts {
    const catalogDefault =
      this.registry.find(row.provider)?.catalog.sync.defaultIntervalMinutes ??
      FALLBACK_INTERVAL_MINUTES;
    return {
      status: row.status,
      createdAt: row.created_at,
      statusSince:
        row.status === 'needs_reauth' ? (row.auth_since ?? row.updated_at) : row.updated_at,
      pausedAt: row.paused_at,
      pausedReason: row.paused_reason,
      intervalMinutes: syncIntervalMinutes(
        { settings: row.settings ?? {} } as Connection,
        catalogDefault,
      ),
      runActive: row.run_active,
      lastSuccessAt: row.last_success_at,
      recentOutcomes: row.outcomes ?? [],
      failingSince: row.failing_since,
      lastError: row.last_error_code ? describeProblem(row.last_error_code) : row.last_error,
    };
  }
}
