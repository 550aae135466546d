import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Connection } from '../auth/entities/connection.entity.js';
import { PdeckNotifier } from '../events/pdeck-notifier.service.js';
import { ItemsRepository } from '../items/items.repository.js';
import type { SyncResource } from '@pdeck/integration-sdk';
import type { SyncState } from './entities/sync-state.entity.js';
import { SyncStateService } from './sync-state.service.js';
import { RESOURCES_REMOVED_EVENT, type ResourcesRemovedEvent } from './sync.constants.js';

/**
 * Resources a listing no longer returns are gone for this account (a board the member left, a
 * calendar removed): their items become tombstones (the user no longer sees them at the
 * provider either), their sync state is dropped, and Webhooks is told to stop their
 * subscriptions.
 */
@Injectable()
export class ResourceRetirer {
  private readonly logger = new Logger(ResourceRetirer.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly items: ItemsRepository,
    private readonly states: SyncStateService,
    private readonly notifier: PdeckNotifier,
    private readonly events: EventEmitter2,
  ) {}

  async retireUnlisted(
    connection: Connection,
    listed: SyncResource[],
    known: SyncState[],
  ): Promise<void> {
    const ids = new Set(listed.map((r) => r.id));
    const gone = known.filter((s) => !ids.has(s.resourceId));
    if (gone.length === 0) return;
    for (const state of gone) {
      await this.dataSource.transaction(async (manager) => {
        const result = await this.items.tombstoneContainer(manager, {
          connectionId: connection.id,
          userId: connection.userId,
          containerId: state.resourceId,
        });
        await this.states.delete(manager, state.id);
        if (result.minChangeSeq !== null && result.maxChangeSeq !== null) {
          await this.notifier.record(manager, 'items.changed', {
            connectionId: connection.id,
            userId: connection.userId,
            provider: connection.provider,
            upserted: 0,
            deleted: result.deleted,
            fromChangeSeq: result.minChangeSeq,
            toChangeSeq: result.maxChangeSeq,
          });
        }
      });
    }
    const event: ResourcesRemovedEvent = {
      connectionId: connection.id,
      provider: connection.provider,
      resourceIds: gone.map((s) => s.resourceId),
    };
    this.logger.log(
      { ...event },
      'Resources no longer listed: items tombstoned, subscriptions stopped',
    );
    await this.events.emitAsync(RESOURCES_REMOVED_EVENT, event);
  }
}
