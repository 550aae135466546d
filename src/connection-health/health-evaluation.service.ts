import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import { MetricsService } from '../core/metrics/metrics.service.js';
import { ConnectionPauseService } from './connection-pause.service.js';
import { IssuesService } from './issues.service.js';

/**
 * Subscriptions that expire within this are counted as near expiry (an alert watches them).
 * Renewals start 24 h before expiry (DEFAULT_RENEW_BEFORE_MS) every 10 minutes, so one still
 * this close has failed to renew for about 18 hours.
 */
const EXPIRY_HORIZON_HOURS = 6;

export interface EvaluationResult {
  resolved: number;
  subscriptionIssues: number;
  paused: number;
}

/**
 * The time-based part of issues, run every minute by the connection-health job scheduler:
 * resolves issues whose quiet period passed, opens `webhook_subscription` issues from the failed
 * subscribe attempts the subscription lifecycle records, pauses connections whose sync issue has
 * been open for AUTO_PAUSE_AFTER_MS, and refreshes the gauges the alert rules read.
 */
@Injectable()
export class HealthEvaluationService {
  private readonly logger = new Logger('ConnectionHealthEvaluation');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly issues: IssuesService,
    private readonly pauses: ConnectionPauseService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
  ) {}

  async run(now: Date = new Date()): Promise<EvaluationResult> {
    let resolved = 0;
    for (const id of await this.issues.quietIssues(now)) {
      if (await this.issues.resolveById(id)) resolved++;
    }
    const subscriptionIssues = await this.subscriptionFailures();
    const paused = await this.autoPause(now);
    await this.refreshGauges();
    if (resolved || subscriptionIssues || paused) {
      this.logger.log({ msg: 'connection health evaluated', resolved, subscriptionIssues, paused });
    }
    return { resolved, subscriptionIssues, paused };
  }

  /** Failed subscribe attempts newer than what the open issue has seen: open or bump it. */
  private async subscriptionFailures(): Promise<number> {
    const rows = await this.dataSource.query<
      { connection_id: string; n: number; errors: string }[]
    >(
      `SELECT a.connection_id, count(*)::int AS n, string_agg(DISTINCT a.last_error, '; ') AS errors
       FROM webhook_subscribe_attempts a
       JOIN connections c ON c.id = a.connection_id AND c.status = 'active'
       LEFT JOIN connection_issues i ON i.connection_id = a.connection_id
         AND i.type = 'webhook_subscription' AND i.status = 'open'
       WHERE a.status = 'failed'
       GROUP BY a.connection_id, i.last_seen_at
       HAVING max(a.updated_at) > coalesce(i.last_seen_at, '-infinity'::timestamptz)
       LIMIT 1000`,
    );
    for (const row of rows) {
      await this.issues.report(
        row.connection_id,
        'webhook_subscription',
        `${row.n} resource(s) could not be subscribed to: ${row.errors ?? 'unknown error'}`,
      );
    }
    return rows.length;
  }

  /**
   * Sync issues open for AUTO_PAUSE_AFTER_MS, counted from the later of the issue's opening and
   * the connection's last resume (a resumed connection gets a full period again), that are still
   * failing: a run failed after the resume and none succeeded since the last failure.
   */
  private async autoPause(now: Date): Promise<number> {
    const rows = await this.dataSource.query<
      { connection_id: string; first_seen_at: Date; last_error: string | null }[]
    >(
      `SELECT i.connection_id, i.first_seen_at, i.last_error FROM connection_issues i
       JOIN connections c ON c.id = i.connection_id AND c.status = 'active'
       LEFT JOIN connection_pauses p ON p.connection_id = i.connection_id
       WHERE i.type = 'sync' AND i.status = 'open' AND p.paused_at IS NULL
         AND i.last_seen_at > coalesce(p.resumed_at, '-infinity'::timestamptz)
         AND NOT EXISTS (SELECT 1 FROM sync_runs r WHERE r.connection_id = i.connection_id
           AND r.status IN ('succeeded', 'partial') AND r.finished_at > i.last_seen_at)
         AND greatest(i.first_seen_at, coalesce(p.resumed_at, '-infinity'::timestamptz))
           <= $1::timestamptz - make_interval(secs => $2 / 1000.0)
       LIMIT 100`,
      [now.toISOString(), this.config.autoPauseAfterMs],
    );
    let paused = 0;
    for (const row of rows) {
      const reason = `syncs have failed since ${row.first_seen_at.toISOString()}${row.last_error ? ` (${row.last_error})` : ''}`;
      if ((await this.pauses.pause(row.connection_id, reason.slice(0, 400), 'auto')).changed)
        paused++;
    }
    return paused;
  }

  private async refreshGauges(): Promise<void> {
    this.metrics.connectionIssuesOpen.reset();
    for (const row of await this.issues.openCounts()) {
      this.metrics.connectionIssuesOpen.set({ provider: row.provider, type: row.type }, row.n);
    }
    const expiring = await this.dataSource.query<{ provider: string; n: number }[]>(
      `SELECT provider, count(*)::int AS n FROM webhook_subscriptions
       WHERE status = 'active' AND expires_at IS NOT NULL AND expires_at < now() + make_interval(hours => $1)
       GROUP BY provider`,
      [EXPIRY_HORIZON_HOURS],
    );
    this.metrics.webhookSubscriptionsExpiring.reset();
    for (const row of expiring) {
      this.metrics.webhookSubscriptionsExpiring.set({ provider: row.provider }, row.n);
    }
  }
}
