import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import { inBatches } from '../core/database/in-batches.js';
import { MetricsService } from '../core/metrics/metrics.service.js';
import { SyncRunsService } from './sync-runs.service.js';

/** Runs per delete statement. */
export const SYNC_RUNS_RETENTION_BATCH = 5_000;
/** Connections handled per round of delete statements. */
const CONNECTIONS_PER_ROUND = 200;

/**
 * Keeps sync_runs from growing forever: a run is deleted only when it is both older than
 * SYNC_RUN_RETENTION_DAYS and not among the newest SYNC_RUN_RETENTION_COUNT runs of its
 * connection, and never while queued or running. Walks the connections in id order, a few hundred
 * at a time, each round in bounded statements. Run by the sync-retention job scheduler.
 */
@Injectable()
export class SyncRunsRetentionService {
  private readonly logger = new Logger('SyncRunsRetention');

  constructor(
    private readonly runs: SyncRunsService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
  ) {}

  async run(): Promise<{ deleted: number }> {
    const { syncRunCount, syncRunDays } = this.config.retention;
    let deleted = 0;
    let after: string | null = null;
    for (;;) {
      const connections = await this.runs.connectionsWithRuns(after, CONNECTIONS_PER_ROUND);
      if (connections.length === 0) break;
      deleted += await inBatches(
        (batch) => this.runs.deleteExpired(connections, syncRunCount, syncRunDays, batch),
        SYNC_RUNS_RETENTION_BATCH,
        (n) => this.metrics.retentionRows.inc({ table: 'sync_runs', action: 'deleted' }, n),
      );
      after = connections[connections.length - 1];
    }
    this.logger.log({
      msg: 'sync runs retention pass',
      deleted,
      keepPerConnection: syncRunCount,
      keepDays: syncRunDays,
    });
    return { deleted };
  }
}
