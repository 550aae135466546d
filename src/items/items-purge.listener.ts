import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { CONNECTION_EVENTS, type ConnectionEvent } from '../auth/connection-events.js';
import { ItemsRepository } from './items.repository.js';

/** Deletes a connection's items when it is removed with `purgeItems`. */
@Injectable()
export class ItemsPurgeListener {
  private readonly logger = new Logger('Items');

  constructor(private readonly items: ItemsRepository) {}

  @OnEvent(CONNECTION_EVENTS.deleted)
  async onConnectionDeleted(event: ConnectionEvent): Promise<void> {
    if (event.purgeItems !== true) return;
    try {
      const purged = await this.items.purgeConnection(event.connectionId);
      this.logger.log({ msg: 'purged items', connectionId: event.connectionId, purged });
    } catch (err) {
      // The emitter does not await listeners: log here; the disconnect itself already succeeded.
      this.logger.error({
        msg: 'could not purge items',
        connectionId: event.connectionId,
        error: (err as Error).message,
      });
    }
  }
}
