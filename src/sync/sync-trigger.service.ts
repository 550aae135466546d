import { randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import { REDIS } from '../core/redis/redis.tokens.js';
import { SyncRunsService } from './sync-runs.service.js';
import {
  DEFAULT_SYNC_ATTEMPTS,
  SYNC_JOB,
  SYNC_QUEUE,
  type SyncJobData,
  type SyncTrigger,
} from './sync.constants.js';

/**
 * Finished jobs of the sync queue, bounded by count and age (Redis runs with noeviction): a day
 * of completed runs, a week of failed ones (sync_runs keeps the history). The counts bound the
 * whole set, so every job of the queue (runs and scheduler ticks) uses the same values.
 */
export const SYNC_JOB_RETENTION = {
  removeOnComplete: { age: 86_400, count: 5_000 },
  removeOnFail: { age: 7 * 86_400, count: 5_000 },
} as const satisfies JobsOptions;

/** A follow-up request outlives any sync; a day is far longer than one runs. */
const FOLLOW_UP_TTL_MS = 86_400_000;

/**
 * Enqueues syncs so that a connection never syncs twice at once: the BullMQ deduplication id is
 * the connection, so 20 concurrent requests make one job. A request that arrives while a sync
 * is already running may be about changes that sync has passed, so it is kept as a follow-up
 * (in Redis, latest wins, full stays full) and runs right after. (BullMQ's keepLastIfActive
 * should do this, but in our runs the kept job never appeared.)
 */
@Injectable()
export class SyncTriggerService {
  constructor(
    @InjectQueue(SYNC_QUEUE) private readonly queue: Queue<SyncJobData>,
    private readonly runs: SyncRunsService,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
  ) {}

  async trigger(
    connectionId: string,
    mode: 'full' | 'incremental',
    trigger: SyncTrigger,
    resourceIds?: string[],
  ): Promise<{ syncRunId: string; coalesced: boolean }> {
    const syncRunId = randomUUID();
    const requestedAt = Date.now();
    const data: SyncJobData = { connectionId, mode, trigger, syncRunId, resourceIds };
    const job = await this.queue.add(SYNC_JOB.run, data, this.jobOptions(connectionId, syncRunId));
    if (job.id === syncRunId) {
      await this.runs.createQueued(syncRunId, connectionId, mode, trigger);
      return { syncRunId, coalesced: false };
    }
    return this.coalesce(job.id!, data, requestedAt);
  }

  /** Called when a sync of the connection finished: starts the follow-up requested meanwhile. */
  async runFollowUp(connectionId: string): Promise<void> {
    const pending = await this.redis.getdel(this.followUpKey(connectionId));
    if (!pending) return;
    const data = JSON.parse(pending) as SyncJobData;
    const job = await this.queue.add(
      SYNC_JOB.run,
      data,
      this.jobOptions(connectionId, data.syncRunId!),
    );
    // Someone queued a sync in between: it starts later than the request, so it covers it.
    if (job.id !== data.syncRunId) await this.runs.finish(data.syncRunId!, 'succeeded');
  }

  /**
   * Another sync of the connection exists. Waiting (or parked by a rate limit): it covers this
   * request (a full request upgrades it). Running since before our request: keep a follow-up.
   * Started after our request: it covers it. processedOn tells the last two apart.
   */
  private async coalesce(
    existingId: string,
    data: SyncJobData,
    requestedAt: number,
  ): Promise<{ syncRunId: string; coalesced: boolean }> {
    const existing = await this.queue.getJob(existingId);
    const state = existing ? await existing.getState() : 'unknown';
    if (existing && (state === 'waiting' || state === 'delayed' || state === 'prioritized')) {
      await this.merge(existing.data, data, (merged) => existing.updateData(merged));
      return { syncRunId: existing.data.syncRunId ?? existingId, coalesced: true };
    }
    if (existing && state === 'active' && (existing.processedOn ?? 0) > requestedAt) {
      return { syncRunId: existing.data.syncRunId ?? existingId, coalesced: true };
    }
    await this.runs.createQueued(data.syncRunId!, data.connectionId, data.mode, data.trigger);
    const key = this.followUpKey(data.connectionId);
    const previous = await this.redis.get(key);
    const wasFull = previous !== null && (JSON.parse(previous) as SyncJobData).mode === 'full';
    await this.redis.set(
      key,
      JSON.stringify({ ...data, mode: wasFull ? 'full' : data.mode }),
      'PX',
      FOLLOW_UP_TTL_MS,
    );
    // The running job may have finished between our add and now: then nobody else will start it.
    if (state !== 'active') await this.runFollowUp(data.connectionId);
    return { syncRunId: data.syncRunId!, coalesced: true };
  }

  private async merge(
    current: SyncJobData,
    incoming: SyncJobData,
    save: (d: SyncJobData) => Promise<void>,
  ): Promise<void> {
    const merged: SyncJobData = {
      ...current,
      mode: current.mode === 'full' || incoming.mode === 'full' ? 'full' : 'incremental',
      resourceIds:
        current.resourceIds && incoming.resourceIds
          ? [...new Set([...current.resourceIds, ...incoming.resourceIds])]
          : undefined,
    };
    if (
      merged.mode !== current.mode ||
      merged.resourceIds?.length !== current.resourceIds?.length
    ) {
      await save(merged);
    }
  }

  private jobOptions(connectionId: string, syncRunId: string): JobsOptions {
    return {
      jobId: syncRunId,
      deduplication: { id: `conn-${connectionId}` },
      attempts: DEFAULT_SYNC_ATTEMPTS,
      backoff: { type: 'sync' },
      ...SYNC_JOB_RETENTION,
    };
  }

  private followUpKey(connectionId: string): string {
    return `${this.config.redisKeyPrefix}:sync:follow-up:${connectionId}`;
  }
}
