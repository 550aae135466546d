import { InjectQueue } from '@nestjs/bullmq';
import { HEALTH_QUEUE } from '../connection-health/health-evaluation.processor.js';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { withQueueTimeout } from '../core/queue/queue-timeout.js';
import { PDECK_EVENTS_QUEUE } from '../events/events.constants.js';
import { ProviderRegistry } from '../providers/provider-registry.js';
import { schedulerId, SYNC_QUEUE } from '../sync/sync.constants.js';
import { SYNC_RETENTION_QUEUE } from '../sync/sync-runs-retention.processor.js';
import { WEBHOOKS_RETENTION_QUEUE } from '../webhooks/webhook-retention.processor.js';
import { WEBHOOK_SUBSCRIPTIONS_QUEUE, WEBHOOKS_QUEUE } from '../webhooks/webhooks.constants.js';
import { ConnectionHealthService } from '../connection-health/connection-health.service.js';
import type { ConnectionHealth } from '../connection-health/health.js';
import { IssuesService } from '../connection-health/issues.service.js';

export const PAGE_SIZE = 50;

export interface ProviderOverview {
  provider: string;
  name: string;
  /** Connections by status (pending, active, ...) and by health state. */
  byStatus: Record<string, number>;
  byHealth: Record<string, number>;
  runsFinished: number;
  runsSucceeded: number;
  /** Succeeded or partial (the run reached its end) over finished, 0-1; null without runs. */
  successRate: number | null;
  /** 95th percentile of finished runs' duration in seconds; null without runs. */
  p95Seconds: number | null;
  deliveries: Record<string, number>;
  /** Runs of the last 24 h that met a rate limit (run or one of its resources). */
  rateLimitedRuns: number;
}

export interface HourBucket {
  hour: string;
  values: Record<string, number>;
}

export interface QueueOverview {
  name: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  /** Age in seconds of the oldest job still waiting; null when none waits or Redis cannot say. */
  oldestWaitingSeconds: number | null;
  unavailable?: boolean;
}

export interface Overview {
  providers: ProviderOverview[];
  runsByHour: HourBucket[];
  deliveriesByHour: HourBucket[];
  expiring: {
    connectionId: string;
    provider: string;
    resourceId: string;
    expiresAt: string;
    account: string;
  }[];
  queues: QueueOverview[];
}

export interface ConnectionFilter {
  provider?: string;
  health?: string;
  user?: string;
  openIssue?: boolean;
  page: number;
}

export interface ConnectionRow {
  id: string;
  provider: string;
  userId: string;
  account: string;
  status: string;
  lastError: string | null;
  lastSuccessAt: string | null;
  nextSyncAt: string | null;
  items: number;
  subscriptionExpiresAt: string | null;
  health: ConnectionHealth | null;
}

const toIso = (value: Date | string | null | undefined): string | null =>
  value ? new Date(value).toISOString() : null;

/**
 * The console's reads: plain SQL over the service's tables (sync_runs, webhook_deliveries,
 * webhook_subscriptions, sync_states, items) and the queues' counts. Reads only; actions go
 * through the services that own them (AdminController).
 */
@Injectable()
export class AdminDataService {
  private readonly logger = new Logger(AdminDataService.name);
  private readonly queues: Queue[];

  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: ProviderRegistry,
    @InjectQueue(SYNC_QUEUE) private readonly syncQueue: Queue,
    @InjectQueue(WEBHOOKS_QUEUE) webhooks: Queue,
    @InjectQueue(WEBHOOK_SUBSCRIPTIONS_QUEUE) subscriptions: Queue,
    @InjectQueue(PDECK_EVENTS_QUEUE) events: Queue,
    @InjectQueue(SYNC_RETENTION_QUEUE) syncRetention: Queue,
    @InjectQueue(WEBHOOKS_RETENTION_QUEUE) webhooksRetention: Queue,
    @InjectQueue(HEALTH_QUEUE) healthQueue: Queue,
    private readonly health: ConnectionHealthService,
    private readonly issues: IssuesService,
  ) {
    this.queues = [
      syncQueue,
      webhooks,
      subscriptions,
      events,
      syncRetention,
      webhooksRetention,
      healthQueue,
    ];
  }

  allQueues(): Queue[] {
    return this.queues;
  }

  providerName(id: string): string {
    return this.registry.find(id)?.catalog.displayName ?? id;
  }

  providerIds(): string[] {
    return this.registry.all().map((p) => p.catalog.id);
  }

  async overview(): Promise<Overview> {
    const [statusRows, runRows, deliveryRows, limitedRows, runsByHour, deliveriesByHour] =
      await Promise.all([
        this.rows<{ provider: string; status: string; n: number }>(
          `SELECT provider, status, count(*)::int AS n FROM connections
           GROUP BY provider, status ORDER BY provider, status`,
        ),
        this.rows<{ provider: string; finished: number; succeeded: number; p95: number | null }>(
          `SELECT c.provider, count(*)::int AS finished,
             count(*) FILTER (WHERE r.status IN ('succeeded', 'partial'))::int AS succeeded,
             percentile_cont(0.95) WITHIN GROUP (
               ORDER BY extract(epoch FROM r.finished_at - r.started_at)) AS p95
           FROM sync_runs r JOIN connections c ON c.id = r.connection_id
           WHERE r.finished_at >= now() - interval '24 hours'
             AND r.status IN ('succeeded', 'partial', 'failed') AND r.started_at IS NOT NULL
           GROUP BY c.provider`,
        ),
        this.rows<{ provider: string; status: string; n: number }>(
          `SELECT provider, status, count(*)::int AS n FROM webhook_deliveries
           WHERE received_at >= now() - interval '24 hours'
           GROUP BY provider, status ORDER BY provider, status`,
        ),
        this.rows<{ provider: string; n: number }>(
          `SELECT c.provider, count(*)::int AS n
           FROM sync_runs r JOIN connections c ON c.id = r.connection_id
           WHERE r.created_at >= now() - interval '24 hours'
             AND (r.error_code = 'RATE_LIMITED'
                  OR r.resources @> '[{"errorCode": "RATE_LIMITED"}]'::jsonb)
           GROUP BY c.provider`,
        ),
        this.hourly(
          `SELECT date_trunc('hour', r.finished_at) AS hour,
             CASE WHEN r.status = 'failed' THEN 'failed' ELSE 'succeeded' END AS series,
             count(*)::int AS n
           FROM sync_runs r
           WHERE r.finished_at >= date_trunc('hour', now()) - interval '23 hours'
             AND r.status IN ('succeeded', 'partial', 'failed')
           GROUP BY 1, 2`,
        ),
        this.hourly(
          `SELECT date_trunc('hour', received_at) AS hour,
             CASE WHEN status IN ('processed', 'ignored') THEN 'processed'
                  WHEN status = 'received' THEN 'received' ELSE 'failed' END AS series,
             count(*)::int AS n
           FROM webhook_deliveries
           WHERE received_at >= date_trunc('hour', now()) - interval '23 hours'
           GROUP BY 1, 2`,
        ),
      ]);
    const byHealth = await this.healthCounts();
    const known = new Set([
      ...this.providerIds(),
      ...statusRows.map((r) => r.provider),
      ...runRows.map((r) => r.provider),
      ...deliveryRows.map((r) => r.provider),
    ]);
    const providers = [...known].sort().map((provider): ProviderOverview => {
      const runs = runRows.find((r) => r.provider === provider);
      const finished = runs?.finished ?? 0;
      return {
        provider,
        name: this.providerName(provider),
        byStatus: Object.fromEntries(
          statusRows.filter((r) => r.provider === provider).map((r) => [r.status, r.n]),
        ),
        byHealth: byHealth.get(provider) ?? {},
        runsFinished: finished,
        runsSucceeded: runs?.succeeded ?? 0,
        successRate: finished ? (runs?.succeeded ?? 0) / finished : null,
        p95Seconds: runs?.p95 === null || runs?.p95 === undefined ? null : Number(runs.p95),
        deliveries: Object.fromEntries(
          deliveryRows.filter((r) => r.provider === provider).map((r) => [r.status, r.n]),
        ),
        rateLimitedRuns: limitedRows.find((r) => r.provider === provider)?.n ?? 0,
      };
    });
    const expiring = await this.rows<{
      connection_id: string;
      provider: string;
      resource_id: string;
      expires_at: Date;
      account: string;
    }>(
      `SELECT s.connection_id, s.provider, s.resource_id, s.expires_at,
         coalesce(c.account_label, c.account_id) AS account
       FROM webhook_subscriptions s JOIN connections c ON c.id = s.connection_id
       WHERE s.status = 'active' AND s.expires_at IS NOT NULL
       ORDER BY s.expires_at ASC LIMIT 10`,
    );
    return {
      providers,
      runsByHour,
      deliveriesByHour,
      expiring: expiring.map((e) => ({
        connectionId: e.connection_id,
        provider: e.provider,
        resourceId: e.resource_id,
        expiresAt: toIso(e.expires_at)!,
        account: e.account,
      })),
      queues: await this.queueOverview(),
    };
  }

  /** Counts per queue; a queue Redis does not answer for in time is shown as unavailable. */
  async queueOverview(): Promise<QueueOverview[]> {
    return Promise.all(
      this.queues.map(async (queue): Promise<QueueOverview> => {
        try {
          const counts = await withQueueTimeout(
            queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed'),
          );
          // Oldest first: the job at the far end of the wait list.
          const [oldest] = await withQueueTimeout(queue.getJobs(['waiting'], 0, 0, true));
          return {
            name: queue.name,
            waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
            active: counts.active ?? 0,
            delayed: counts.delayed ?? 0,
            failed: counts.failed ?? 0,
            oldestWaitingSeconds: oldest
              ? Math.max(0, Math.round((Date.now() - oldest.timestamp) / 1000))
              : null,
          };
        } catch (error) {
          this.logger.warn({ queue: queue.name, reason: String(error), msg: 'Queue unavailable' });
          return {
            name: queue.name,
            waiting: 0,
            active: 0,
            delayed: 0,
            failed: 0,
            oldestWaitingSeconds: null,
            unavailable: true,
          };
        }
      }),
    );
  }

  async connections(filter: ConnectionFilter): Promise<{ rows: ConnectionRow[]; more: boolean }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.provider) {
      params.push(filter.provider);
      where.push(`c.provider = $${params.length}`);
    }
    if (filter.user) {
      params.push(filter.user);
      where.push(`c.user_id = $${params.length}`);
    }
    if (filter.openIssue !== undefined) {
      const ids = await this.connectionsWithOpenIssues();
      params.push(ids);
      where.push(`${filter.openIssue ? '' : 'NOT '}c.id = ANY($${params.length}::uuid[])`);
    }
    // Health is derived, not stored: filtering by it reads every matching connection's health.
    const byHealth = filter.health !== undefined;
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const offset = (filter.page - 1) * PAGE_SIZE;
    const limit = byHealth ? 5000 : PAGE_SIZE + 1;
    const base = await this.rows<{
      id: string;
      provider: string;
      user_id: string;
      account: string;
      status: string;
      last_error: string | null;
    }>(
      `SELECT c.id, c.provider, c.user_id, coalesce(c.account_label, c.account_id) AS account,
         c.status, c.last_error
       FROM connections c ${clause}
       ORDER BY c.created_at DESC, c.id
       LIMIT ${limit} OFFSET ${byHealth ? 0 : offset}`,
      params,
    );
    let selected = base;
    const health = await this.health.forConnections(base.map((r) => r.id));
    if (byHealth) {
      selected = base.filter((r) => health.get(r.id)?.state === filter.health);
      selected = selected.slice(offset, offset + PAGE_SIZE + 1);
    }
    const more = selected.length > PAGE_SIZE;
    const page = selected.slice(0, PAGE_SIZE);
    const facts = await this.facts(page.map((r) => r.id));
    const rows = await Promise.all(
      page.map(async (r): Promise<ConnectionRow> => {
        const f = facts.get(r.id);
        return {
          id: r.id,
          provider: r.provider,
          userId: r.user_id,
          account: r.account,
          status: r.status,
          lastError: r.last_error ?? f?.last_run_error ?? null,
          lastSuccessAt: toIso(f?.last_success_at),
          nextSyncAt: r.status === 'active' ? await this.nextSync(r.id) : null,
          items: f?.items ?? 0,
          subscriptionExpiresAt: toIso(f?.subscription_expires_at),
          health: health.get(r.id) ?? null,
        };
      }),
    );
    return { rows, more };
  }

  async connection(id: string) {
    const [row] = await this.rows<{
      id: string;
      provider: string;
      user_id: string;
      account_id: string;
      account_label: string | null;
      status: string;
      last_error: string | null;
      created_at: Date;
      settings: Record<string, unknown>;
    }>(
      `SELECT id, provider, user_id, account_id, account_label, status, last_error, created_at,
         settings FROM connections WHERE id = $1`,
      [id],
    );
    if (!row) return undefined;
    const [runs, resources, subscriptions, deliveries, facts, health] = await Promise.all([
      this.rows<{
        id: string;
        mode: string;
        trigger: string;
        status: string;
        created_at: Date;
        started_at: Date | null;
        finished_at: Date | null;
        fetched: number;
        upserted: number;
        deleted: number;
        unchanged: number;
        error_code: string | null;
        error_message: string | null;
        resources: {
          resourceId: string;
          resourceName: string;
          outcome: string;
          errorCode?: string;
          errorMessage?: string;
        }[];
      }>(
        `SELECT id, mode, trigger, status, created_at, started_at, finished_at, fetched, upserted,
           deleted, unchanged, error_code, error_message, resources
         FROM sync_runs WHERE connection_id = $1 ORDER BY created_at DESC LIMIT 20`,
        [id],
      ),
      this.rows<{
        resource_id: string;
        resource_name: string | null;
        stage: string;
        status: string;
        updated_at: Date;
        last_success_at: Date | null;
        last_error: string | null;
        has_cursor: boolean;
      }>(
        `SELECT resource_id, resource_name, stage, status, updated_at, last_success_at, last_error,
           cursor IS NOT NULL AS has_cursor
         FROM sync_states WHERE connection_id = $1 ORDER BY resource_name, resource_id`,
        [id],
      ),
      this.rows<{
        resource_id: string;
        status: string;
        expires_at: Date | null;
        created_at: Date;
      }>(
        `SELECT resource_id, status, expires_at, created_at FROM webhook_subscriptions
         WHERE connection_id = $1 ORDER BY expires_at ASC NULLS LAST`,
        [id],
      ),
      this.rows<{
        provider: string;
        received_at: Date;
        status: string;
        attempts: number;
        error: string | null;
      }>(
        `SELECT provider, received_at, status, attempts, error FROM webhook_deliveries
         WHERE connection_ids @> ARRAY[$1]::uuid[] ORDER BY received_at DESC LIMIT 20`,
        [id],
      ),
      this.facts([id]),
      this.health.forConnections([id]),
    ]);
    const { issues } = await this.issues.list({ connectionId: id, limit: 50 });
    return {
      id: row.id,
      provider: row.provider,
      providerName: this.providerName(row.provider),
      userId: row.user_id,
      account: row.account_label ?? row.account_id,
      accountId: row.account_id,
      status: row.status,
      lastError: row.last_error,
      createdAt: toIso(row.created_at)!,
      items: facts.get(id)?.items ?? 0,
      nextSyncAt: row.status === 'active' ? await this.nextSync(id) : null,
      health: health.get(id) ?? null,
      runs,
      resources,
      subscriptions,
      deliveries,
      issues,
    };
  }

  private async facts(ids: string[]) {
    const rows = ids.length
      ? await this.rows<{
          id: string;
          last_success_at: Date | null;
          last_run_error: string | null;
          items: number;
          subscription_expires_at: Date | null;
        }>(
          `SELECT c.id,
             (SELECT max(r.finished_at) FROM sync_runs r
               WHERE r.connection_id = c.id AND r.status IN ('succeeded', 'partial')) AS last_success_at,
             (SELECT r.error_code FROM sync_runs r
               WHERE r.connection_id = c.id AND r.finished_at IS NOT NULL
               ORDER BY r.finished_at DESC LIMIT 1) AS last_run_error,
             (SELECT count(*)::int FROM items i
               WHERE i.connection_id = c.id AND i.deleted_at IS NULL) AS items,
             (SELECT min(s.expires_at) FROM webhook_subscriptions s
               WHERE s.connection_id = c.id AND s.status = 'active') AS subscription_expires_at
           FROM connections c WHERE c.id = ANY($1::uuid[])`,
          [ids],
        )
      : [];
    return new Map(rows.map((r) => [r.id, r]));
  }

  /** Connections with an open issue that is not muted (at most 2,000 issues are read). */
  private async connectionsWithOpenIssues(): Promise<string[]> {
    const ids = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const listed = await this.issues.list({ status: 'open', limit: 200, cursor });
      for (const issue of listed.issues) if (!issue.muted) ids.add(issue.connectionId);
      if (!listed.nextCursor) break;
      cursor = listed.nextCursor;
    }
    return [...ids];
  }

  /** Connections per provider and health state. */
  private async healthCounts(): Promise<Map<string, Record<string, number>>> {
    const rows = await this.rows<{ id: string; provider: string }>(
      `SELECT id, provider FROM connections WHERE status <> 'disconnected'`,
    );
    const health = await this.health.forConnections(rows.map((r) => r.id));
    const counts = new Map<string, Record<string, number>>();
    for (const r of rows) {
      const state = health.get(r.id)?.state;
      if (!state) continue;
      const c = counts.get(r.provider) ?? {};
      c[state] = (c[state] ?? 0) + 1;
      counts.set(r.provider, c);
    }
    return counts;
  }

  /** 24 hourly buckets ending with the current hour, zero-filled. */
  private async hourly(sql: string): Promise<HourBucket[]> {
    const rows = await this.rows<{ hour: Date; series: string; n: number }>(sql);
    const now = new Date();
    now.setUTCMinutes(0, 0, 0);
    const buckets: HourBucket[] = [];
    for (let i = 23; i >= 0; i--) {
      const hour = new Date(now.getTime() - i * 3_600_000).toISOString();
      buckets.push({ hour, values: {} });
    }
    for (const r of rows) {
      const bucket = buckets.find((b) => b.hour === new Date(r.hour).toISOString());
      if (bucket) bucket.values[r.series] = (bucket.values[r.series] ?? 0) + r.n;
    }
    return buckets;
  }

  private async nextSync(connectionId: string): Promise<string | null> {
    try {
      const scheduler = await withQueueTimeout(
        this.syncQueue.getJobScheduler(schedulerId(connectionId)),
      );
      return scheduler?.next ? new Date(scheduler.next).toISOString() : null;
    } catch {
      return null;
    }
  }

  private async rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.dataSource.query(sql, params)) as T[];
  }
}
