import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import type { Queue } from 'bullmq';
import { CONNECTION_EVENTS, type ConnectionEvent } from '../auth/connection-events.js';
import { ConnectionStore } from '../auth/connection-store.service.js';
import type { Connection } from '../auth/entities/connection.entity.js';
import { PauseStore } from '../connection-health/pause.store.js';
import { ProviderRegistry } from '../providers/provider-registry.js';
import { SyncStateService } from './sync-state.service.js';
import { SYNC_JOB_RETENTION, SyncTriggerService } from './sync-trigger.service.js';
import { schedulerId, SYNC_JOB, SYNC_QUEUE, type SyncJobData } from './sync.constants.js';

/** Minutes between scheduled incremental syncs: the connection's override, else the catalog's. */
export function syncIntervalMinutes(connection: Connection, catalogDefault: number): number {
  const override = Number(connection.settings?.syncIntervalMinutes);
  return Number.isInteger(override) && override >= 1 ? override : catalogDefault;
}

/**
 * One BullMQ job scheduler per active connection (upsertJobScheduler is idempotent: upserting
 * twice leaves one). Schedulers only emit `tick` jobs; a tick becomes a deduplicated sync run,
 * because scheduler templates cannot carry deduplication options.
 */
@Injectable()
export class SyncSchedulerService {
  private readonly logger = new Logger(SyncSchedulerService.name);

  constructor(
    @InjectQueue(SYNC_QUEUE) private readonly queue: Queue<SyncJobData>,
    private readonly connections: ConnectionStore,
    private readonly registry: ProviderRegistry,
    private readonly trigger: SyncTriggerService,
    private readonly states: SyncStateService,
    private readonly pauses: PauseStore,
  ) {}

  /** A paused connection (connection-health) keeps no scheduler: this removes it instead. */
  async schedule(connection: Connection): Promise<void> {
    if (await this.pauses.isPaused(connection.id)) return this.unschedule(connection.id);
    await this.upsertScheduler(connection);
  }

  private async upsertScheduler(connection: Connection): Promise<void> {
    const minutes = syncIntervalMinutes(
      connection,
      this.registry.get(connection.provider).catalog.sync.defaultIntervalMinutes,
    );
    await this.queue.upsertJobScheduler(
      schedulerId(connection.id),
      { every: minutes * 60_000 },
      {
        name: SYNC_JOB.tick,
        data: { connectionId: connection.id, mode: 'incremental', trigger: 'schedule' },
        // A completed tick holds nothing (its run is a job of its own); failed ones are bounded
        // like every failed job of the queue.
        opts: { removeOnComplete: true, removeOnFail: SYNC_JOB_RETENTION.removeOnFail },
      },
    );
  }

  async unschedule(connectionId: string): Promise<void> {
    await this.queue.removeJobScheduler(schedulerId(connectionId));
  }

  /** Makes the schedulers match the active connections (startup, and after Redis data loss). */
  async reconcile(): Promise<{ scheduled: number; removed: number }> {
    const active = await this.connections.listActive();
    const paused = await this.pauses.pausedIds();
    const wanted = new Set(
      active
        .filter((c) => this.registry.find(c.provider) !== undefined && !paused.has(c.id))
        .map((c) => schedulerId(c.id)),
    );
    for (const connection of active) {
      if (wanted.has(schedulerId(connection.id))) await this.upsertScheduler(connection);
    }
    let removed = 0;
    for (const scheduler of await this.queue.getJobSchedulers(0, -1)) {
      const id = scheduler.key;
      if (id.startsWith('sync-') && !wanted.has(id)) {
        await this.queue.removeJobScheduler(id);
        removed++;
      }
    }
    return { scheduled: wanted.size, removed };
  }

  @OnEvent(CONNECTION_EVENTS.created)
  @OnEvent(CONNECTION_EVENTS.reconnected)
  async onConnected(event: ConnectionEvent): Promise<void> {
    const connection = await this.connections.get(event.connectionId);
    // A paused connection stays paused across a reconnect: resuming is a decision of its own.
    if (await this.pauses.isPaused(connection.id)) return;
    // The full sync first: a new job scheduler fires its first tick at once, and that tick must
    // join this run (as its follow-up) rather than start the first import as an incremental one.
    await this.trigger.trigger(connection.id, 'full', 'connect');
    await this.schedule(connection);
  }

  @OnEvent(CONNECTION_EVENTS.needsReauth)
  async onNeedsReauth(event: ConnectionEvent): Promise<void> {
    await this.unschedule(event.connectionId);
    this.logger.warn(
      { connectionId: event.connectionId, provider: event.provider },
      'Sync paused: connection needs re-authorization',
    );
  }

  @OnEvent(CONNECTION_EVENTS.deleted)
  async onDeleted(event: ConnectionEvent): Promise<void> {
    await this.unschedule(event.connectionId);
    await this.states.removeConnection(event.connectionId);
  }
}
