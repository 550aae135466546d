import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CONNECTION_EVENTS, type ConnectionEvent } from '../auth/connection-events.js';
import { PdeckNotifier } from '../events/pdeck-notifier.service.js';
import type { SyncRunResource } from '../sync/entities/sync-run.entity.js';
import { SYNC_RUN_EVENTS, type SyncRunEvent } from '../sync/sync.constants.js';
import { IssuesService } from './issues.service.js';

/** A run parked by rate limits for longer than this, from its start, opens `rate_limited`. */
export const RATE_LIMITED_AFTER_MS = 3_600_000;

/** Resource outcomes that mean access, not a passing fault: the resource was skipped. */
const ACCESS_CODES = new Set(['PERMISSION', 'NOT_FOUND']);

/**
 * Opens (and, for auth, resolves) issues where the facts happen: a run failed for good, a run
 * skipped resources it may not read, a run waits on rate limits, the grant died or came back.
 * Handlers never throw: the emitter would otherwise fail the sync or the auth operation.
 */
@Injectable()
export class HealthEventsListener {
  private readonly logger = new Logger('ConnectionIssues');

  constructor(
    private readonly issues: IssuesService,
    private readonly notifier: PdeckNotifier,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /**
   * One `sync` issue per streak of failed runs. `sync.failed` is recorded with the issue's
   * opening only (same transaction, not when muted): a connection failing every hour for a week
   * sends one, not 168; the issue's count and last error keep the rest.
   */
  @OnEvent(SYNC_RUN_EVENTS.failed)
  async onRunFailed(event: SyncRunEvent): Promise<void> {
    const words = `${event.errorCode ?? 'UNKNOWN'}: ${event.errorMessage ?? 'the sync failed'}`;
    await this.safely('sync', event.connectionId, () =>
      this.issues.report(event.connectionId, 'sync', words, (manager, issue) =>
        this.notifier.record(manager, 'sync.failed', {
          connectionId: issue.connectionId,
          userId: issue.userId,
          provider: issue.provider,
          syncRunId: event.syncRunId,
          errorCode: event.errorCode ?? 'UNKNOWN',
          errorMessage: event.errorMessage ?? '',
        }),
      ),
    );
  }

  /** Resources skipped for PERMISSION or NOT_FOUND open (or bump) `resource_access`. */
  @OnEvent(SYNC_RUN_EVENTS.finished)
  async onRunFinished(event: SyncRunEvent): Promise<void> {
    if (event.outcome !== 'partial') return;
    await this.safely('resource_access', event.connectionId, async () => {
      const [run] = await this.dataSource.query<{ resources: SyncRunResource[] }[]>(
        'SELECT resources FROM sync_runs WHERE id = $1',
        [event.syncRunId],
      );
      const denied = (run?.resources ?? []).filter(
        (r) => r.outcome !== 'succeeded' && ACCESS_CODES.has(r.errorCode ?? ''),
      );
      if (denied.length === 0) return;
      const words = denied
        .map((r) => `"${r.resourceName}": ${r.errorMessage ?? r.errorCode}`)
        .join('; ');
      await this.issues.report(event.connectionId, 'resource_access', `Skipped ${words}`);
    });
  }

  /** A run waiting on rate limits for more than an hour since it started opens `rate_limited`. */
  @OnEvent(SYNC_RUN_EVENTS.delayed)
  async onRunDelayed(event: SyncRunEvent): Promise<void> {
    if (!event.until) return;
    const until = event.until;
    await this.safely('rate_limited', event.connectionId, async () => {
      const [run] = await this.dataSource.query<{ started_at: Date | null }[]>(
        'SELECT started_at FROM sync_runs WHERE id = $1',
        [event.syncRunId],
      );
      const since = run?.started_at ?? new Date();
      if (until.getTime() - since.getTime() <= RATE_LIMITED_AFTER_MS) return;
      await this.issues.report(
        event.connectionId,
        'rate_limited',
        `A sync has waited on the provider's rate limits since ${since.toISOString()}; next try at ${until.toISOString()}`,
      );
    });
  }

  @OnEvent(CONNECTION_EVENTS.needsReauth)
  async onNeedsReauth(event: ConnectionEvent): Promise<void> {
    await this.safely('auth', event.connectionId, () =>
      this.issues.report(
        event.connectionId,
        'auth',
        `The provider no longer accepts the grant (${event.reason ?? 'revoked'}); the user must reconnect`,
      ),
    );
  }

  /** For auth, active again is the end of the issue: no quiet period. */
  @OnEvent(CONNECTION_EVENTS.reconnected)
  async onReconnected(event: ConnectionEvent): Promise<void> {
    await this.safely('auth', event.connectionId, () =>
      this.issues.resolve(event.connectionId, 'auth'),
    );
  }

  private async safely(
    type: string,
    connectionId: string,
    work: () => Promise<unknown>,
  ): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.logger.error({
        msg: 'could not record a connection issue',
        type,
        connectionId,
        error: (error as Error).message,
      });
    }
  }
}
