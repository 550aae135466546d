import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { WORKER_LOCK } from '../core/queue/redis-connection.js';
import { Inject, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { ConnectionStore } from '../auth/connection-store.service.js';
import { MetricsService } from '../core/metrics/metrics.service.js';
import { withDeadline } from '../core/queue/job-deadline.js';
import { backoffDelay } from './sync-error-policy.js';
import { SyncDelayedError, SyncRunnerService } from './sync-runner.service.js';
import { SyncRunsService } from './sync-runs.service.js';
import { SyncTriggerService } from './sync-trigger.service.js';
import {
  SYNC_JOB,
  SYNC_QUEUE,
  SYNC_RUN_EVENTS,
  type SyncJobData,
  type SyncRunEvent,
} from './sync.constants.js';

/**
 * Consumes the sync queue. `tick` jobs (from schedulers) become deduplicated runs; `run` jobs
 * execute a sync. Rate limits park the job in the delayed set until the provider's retry time,
 * so the worker slot is free meanwhile and the wait does not count as a failed attempt.
 */
@Processor(SYNC_QUEUE, {
  ...WORKER_LOCK,
  settings: { backoffStrategy: (attemptsMade: number) => backoffDelay(attemptsMade) },
})
export class SyncProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(SyncProcessor.name);

  constructor(
    private readonly runner: SyncRunnerService,
    private readonly trigger: SyncTriggerService,
    private readonly runs: SyncRunsService,
    private readonly connections: ConnectionStore,
    private readonly events: EventEmitter2,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.syncConcurrency;
  }

  async process(job: Job<SyncJobData>, token?: string): Promise<string> {
    if (job.name === SYNC_JOB.tick) {
      const { syncRunId } = await this.trigger.trigger(
        job.data.connectionId,
        job.data.mode,
        'schedule',
      );
      return syncRunId;
    }
    const data = { ...job.data, syncRunId: job.data.syncRunId ?? job.id! };
    const started = performance.now();
    try {
      // SYNC_JOB_TIMEOUT_MS: a hung provider call or a stuck statement cannot hold the slot forever;
      // past it the job fails (JOB_DEADLINE) and its retry resumes from the committed pages.
      const { outcome, provider } = await withDeadline(
        this.config.syncJobTimeoutMs,
        `sync job ${job.id}`,
        (signal) => this.runner.run(data, signal),
      );
      this.countRun(provider, data.mode, outcome, (performance.now() - started) / 1000);
      await this.runs.finishCovered(data.syncRunId, data.coveredRunIds);
      await this.emit(SYNC_RUN_EVENTS.finished, {
        connectionId: data.connectionId,
        syncRunId: data.syncRunId,
        outcome,
      });
      return outcome;
    } catch (error) {
      if (error instanceof SyncDelayedError) {
        this.logger.log(
          { connectionId: data.connectionId, jobId: job.id, until: error.until.toISOString() },
          'Sync delayed by a rate limit',
        );
        // Resume with the resources still to do: the listing call is not spent again.
        if (error.remainingResourceIds) {
          await job.updateData({ ...job.data, resourceIds: error.remainingResourceIds });
        }
        await job.moveToDelayed(error.until.getTime(), token);
        await this.emit(SYNC_RUN_EVENTS.delayed, {
          connectionId: data.connectionId,
          syncRunId: data.syncRunId,
          until: error.until,
        });
        throw new DelayedError();
      }
      throw error;
    }
  }

  /** After the job left the active state (its dedup key is released): run a pending follow-up. */
  @OnWorkerEvent('completed')
  async onCompleted(job: Job<SyncJobData>): Promise<void> {
    if (job.name === SYNC_JOB.run) await this.trigger.runFollowUp(job.data.connectionId);
  }

  /**
   * Final failures only: record them. PDeck hears of them through the connection's `sync` issue
   * (connection-health): `sync.failed` goes out once, when the issue opens, not for every run.
   */
  @OnWorkerEvent('failed')
  async onFailed(job: Job<SyncJobData> | undefined, error: Error): Promise<void> {
    if (!job || job.name !== SYNC_JOB.run) return;
    const final =
      error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (!final) return;
    await this.trigger.runFollowUp(job.data.connectionId);
    const syncRunId = job.data.syncRunId ?? job.id!;
    const code = (error as { code?: string }).code ?? 'UNKNOWN';
    await this.runs.finish(syncRunId, 'failed', { code, message: error.message });
    await this.runs.finishCovered(syncRunId, job.data.coveredRunIds);
    const connection = await this.connections.find(job.data.connectionId);
    // Last attempt only: from its start to now (earlier attempts were retries of the same run).
    const seconds = job.processedOn ? (Date.now() - job.processedOn) / 1000 : undefined;
    this.countRun(connection?.provider ?? null, job.data.mode, 'failed', seconds);
    await this.emit(SYNC_RUN_EVENTS.failed, {
      connectionId: job.data.connectionId,
      syncRunId,
      errorCode: code,
      errorMessage: error.message,
    });
    this.logger.error({ connectionId: job.data.connectionId, jobId: job.id, code }, 'Sync failed');
  }

  /** Listeners (connection health) catch their own errors; a sync never fails because of one. */
  private async emit(name: string, event: SyncRunEvent): Promise<void> {
    try {
      await this.events.emitAsync(name, event);
    } catch (error) {
      this.logger.warn({ msg: 'sync run listener failed', name, error: (error as Error).message });
    }
  }

  private countRun(
    provider: string | null,
    mode: string,
    outcome: string,
    seconds: number | undefined,
  ): void {
    const labels = { provider: provider ?? 'unknown', mode, outcome };
    this.metrics.syncRuns.inc(labels);
    if (seconds !== undefined) this.metrics.syncRunDuration.observe(labels, seconds);
  }
}
