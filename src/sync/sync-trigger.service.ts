import { randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import {
  DEFAULT_SYNC_ATTEMPTS,
  SYNC_JOB,
  SYNC_QUEUE,
  type SyncJobData,
  type SyncTrigger,
} from './sync.constants.js';
import { SyncRunsService } from './sync-runs.service.js';

/**
 * Enqueues syncs so that a connection never syncs twice at once: the BullMQ deduplication id is
 * the connection id, with keepLastIfActive, so at most one sync runs and one waits per
 * connection; a request made while a sync runs is kept and runs right after it (changes that
 * arrived mid-run are not lost), and 20 concurrent requests still make one waiting job.
 */
@Injectable()
export class SyncTriggerService {
  constructor(
    @InjectQueue(SYNC_QUEUE) private readonly queue: Queue<SyncJobData>,
    private readonly runs: SyncRunsService,
  ) {}

  async trigger(
    connectionId: string,
    mode: 'full' | 'incremental',
    trigger: SyncTrigger,
    resourceIds?: string[],
  ): Promise<{ syncRunId: string; coalesced: boolean }> {
    const syncRunId = randomUUID();
    const data: SyncJobData = { connectionId, mode, trigger, syncRunId, resourceIds };
    const job = await this.queue.add(SYNC_JOB.run, data, {
      jobId: syncRunId,
      deduplication: { id: `conn-${connectionId}`, keepLastIfActive: true },
      attempts: DEFAULT_SYNC_ATTEMPTS,
      backoff: { type: 'sync' },
      removeOnComplete: { age: 86_400, count: 5_000 },
      removeOnFail: { age: 7 * 86_400 },
    });
    if (job.id === syncRunId) {
      await this.runs.createQueued(syncRunId, connectionId, mode, trigger);
      return { syncRunId, coalesced: false };
    }
    return this.coalesce(job.id!, data);
  }

  /**
   * Another sync of the connection exists. If it is still waiting, it covers this request (a full
   * request upgrades it, and resource filters widen); if it is running, our data was kept by
   * BullMQ and will run next under our id.
   */
  private async coalesce(
    existingId: string,
    data: SyncJobData,
  ): Promise<{ syncRunId: string; coalesced: boolean }> {
    const existing = await this.queue.getJob(existingId);
    const state = existing ? await existing.getState() : 'unknown';
    if (existing && (state === 'waiting' || state === 'delayed' || state === 'prioritized')) {
      const merged: SyncJobData = {
        ...existing.data,
        mode: existing.data.mode === 'full' || data.mode === 'full' ? 'full' : 'incremental',
        resourceIds:
          existing.data.resourceIds && data.resourceIds
            ? [...new Set([...existing.data.resourceIds, ...data.resourceIds])]
            : undefined,
      };
      if (
        merged.mode !== existing.data.mode ||
        merged.resourceIds?.length !== existing.data.resourceIds?.length
      ) {
        await existing.updateData(merged);
      }
      return { syncRunId: existing.data.syncRunId ?? existingId, coalesced: true };
    }
    await this.runs.createQueued(data.syncRunId!, data.connectionId, data.mode, data.trigger);
    return { syncRunId: data.syncRunId!, coalesced: true };
  }
}
