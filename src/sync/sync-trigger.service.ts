import { randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import type { RedisClient } from '../core/redis/redis-client.js';
import { ConnectionPausedError, PauseStore } from '../connection-health/pause.store.js';
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

/** How often one completion hands a follow-up on to a sync queued meanwhile before leaving it. */
const FOLLOW_UP_HANDOVERS = 5;

/** A job in these states will still finish, and its completion handler run the follow-up. */
const LIVE_STATES = new Set(['waiting', 'delayed', 'prioritized', 'active', 'waiting-children']);

/**
 * KEYS[1] the follow-up (its one key, so a Redis Cluster routes the script by it), ARGV[1] the
 * request (SyncJobData JSON), ARGV[2] its TTL in ms. A waiting follow-up keeps its run id and
 * takes the request in: full wins, resources widen (all when either wants all), and the request's
 * run id joins coveredRunIds. Returns the follow-up's run id.
 */
const KEEP_FOLLOW_UP = `
local incoming = cjson.decode(ARGV[1])
local raw = redis.call('GET', KEYS[1])
if not raw then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return incoming.syncRunId
end
local current = cjson.decode(raw)
if incoming.mode == 'full' then current.mode = 'full' end
if type(current.resourceIds) == 'table' and type(incoming.resourceIds) == 'table' then
  local seen = {}
  for _, id in ipairs(current.resourceIds) do seen[id] = true end
  for _, id in ipairs(incoming.resourceIds) do
    if not seen[id] then seen[id] = true; table.insert(current.resourceIds, id) end
  end
else
  current.resourceIds = nil
end
local covered = type(current.coveredRunIds) == 'table' and current.coveredRunIds or {}
local ids = { incoming.syncRunId }
if type(incoming.coveredRunIds) == 'table' then
  for _, id in ipairs(incoming.coveredRunIds) do table.insert(ids, id) end
end
for _, id in ipairs(ids) do
  if id ~= current.syncRunId then table.insert(covered, id) end
end
if #covered > 0 then current.coveredRunIds = covered end
redis.call('SET', KEYS[1], cjson.encode(current), 'PX', ARGV[2])
return current.syncRunId
`;

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
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
    private readonly pauses: PauseStore,
  ) {}

  /**
   * A paused connection (connection-health) syncs nothing: a manual request is refused (409
   * `paused`), scheduled, webhook and connect requests are dropped (`paused: true`, no run).
   */
  async trigger(
    connectionId: string,
    mode: 'full' | 'incremental',
    trigger: SyncTrigger,
    resourceIds?: string[],
  ): Promise<{ syncRunId: string; coalesced: boolean; paused?: true }> {
    const pause = await this.pauses.get(connectionId);
    if (pause?.pausedAt) {
      if (trigger === 'manual') throw new ConnectionPausedError(pause.pausedReason);
      return { syncRunId: '', coalesced: false, paused: true };
    }
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

  /**
   * Called when a sync of the connection finished: starts the follow-up requested meanwhile. When
   * another sync of the connection was queued in between (BullMQ's deduplication id is still
   * held), that sync may already have started before the request, so it is not known to cover it:
   * the follow-up is kept and runs after that sync instead.
   */
  async runFollowUp(connectionId: string): Promise<void> {
    for (let attempt = 0; attempt < FOLLOW_UP_HANDOVERS; attempt++) {
      const pending = await this.redis.getdel(this.followUpKey(connectionId));
      if (!pending) return;
      const data = JSON.parse(pending) as SyncJobData;
      const job = await this.queue.add(
        SYNC_JOB.run,
        data,
        this.jobOptions(connectionId, data.syncRunId!),
      );
      if (job.id === data.syncRunId) return;
      await this.keepFollowUp(data);
      // Written before the holder's state is read: if it is still queued or running, its own
      // completion finds the follow-up; if it finished meanwhile, hand over again here.
      if (await this.isQueuedOrRunning(job.id!)) return;
    }
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
    // A follow-up already waiting takes this request in (one run answers both callers).
    const syncRunId = await this.keepFollowUp(data);
    await this.runs.createQueued(syncRunId, data.connectionId, data.mode, data.trigger);
    // The follow-up is written before the state is read again: if the sync finished in between,
    // its completion handler may have looked for a follow-up too early, so start it here (getdel
    // lets only one of us start it).
    if (!(await this.isQueuedOrRunning(existingId))) await this.runFollowUp(data.connectionId);
    return { syncRunId, coalesced: true };
  }

  /**
   * Stores a follow-up, or merges it into the one already waiting (full stays full, resources
   * widen, the later request's run is finished with the follow-up's outcome). Atomic, so two
   * requests never lose one another. Returns the follow-up's run id.
   */
  private keepFollowUp(data: SyncJobData): Promise<string> {
    return this.redis.eval(
      KEEP_FOLLOW_UP,
      1,
      this.followUpKey(data.connectionId),
      JSON.stringify(data),
      FOLLOW_UP_TTL_MS,
    ) as Promise<string>;
  }

  private async isQueuedOrRunning(jobId: string): Promise<boolean> {
    const job = await this.queue.getJob(jobId);
    return job !== undefined && LIVE_STATES.has(await job.getState());
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
