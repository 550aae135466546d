import { Injectable, Logger } from '@nestjs/common';
import { ConnectionStore } from '../auth/connection-store.service.js';
import { PdeckNotifier } from '../events/pdeck-notifier.service.js';
import { SyncSchedulerService } from '../sync/sync-scheduler.service.js';
import { SyncTriggerService } from '../sync/sync-trigger.service.js';
import { IssuesService } from './issues.service.js';
import { PauseStore } from './pause.store.js';

export interface PauseResult {
  connectionId: string;
  paused: boolean;
  /** False when the call found it already in that state (nothing changed). */
  changed: boolean;
}

/**
 * Pausing stops every sync of a connection without touching its status: the job scheduler is
 * removed, and the scheduler reconcile, the trigger (scheduled and webhook requests) and the
 * manual sync route look at the pause. Resuming brings the scheduler back and asks for an
 * incremental sync, which catches up on what changed meanwhile.
 */
@Injectable()
export class ConnectionPauseService {
  private readonly logger = new Logger('ConnectionPause');

  constructor(
    private readonly pauses: PauseStore,
    private readonly connections: ConnectionStore,
    private readonly scheduler: SyncSchedulerService,
    private readonly trigger: SyncTriggerService,
    private readonly issues: IssuesService,
    private readonly notifier: PdeckNotifier,
  ) {}

  /** `actor`: `auto` for the auto-pause, else who asked (the operator console, an API caller). */
  async pause(connectionId: string, reason: string, actor: string): Promise<PauseResult> {
    const connection = await this.connections.get(connectionId);
    const changed = await this.pauses.pause(connectionId, reason, actor);
    // Also when it was paused already: a scheduler left behind by a lost call goes now.
    await this.scheduler.unschedule(connectionId);
    if (changed) {
      await this.issues.note(
        connectionId,
        'sync',
        `Connection paused by ${actor} at ${new Date().toISOString()}: ${reason}`,
      );
      await this.notifier.notify('connection.paused', {
        connectionId,
        userId: connection.userId,
        provider: connection.provider,
        reason,
      });
      this.logger.warn(
        { connectionId, provider: connection.provider, actor, reason },
        'Connection paused',
      );
    }
    return { connectionId, paused: true, changed };
  }

  async resume(connectionId: string, actor: string): Promise<PauseResult> {
    const connection = await this.connections.get(connectionId);
    const changed = await this.pauses.resume(connectionId, actor);
    if (connection.status === 'active') {
      await this.scheduler.schedule(connection);
      if (changed) await this.trigger.trigger(connectionId, 'incremental', 'manual');
    }
    if (changed) {
      await this.issues.note(
        connectionId,
        'sync',
        `Connection resumed by ${actor} at ${new Date().toISOString()}`,
      );
      this.logger.log({ connectionId, provider: connection.provider, actor }, 'Connection resumed');
    }
    return { connectionId, paused: false, changed };
  }
}
