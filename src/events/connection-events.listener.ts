import { Inject, Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { CONNECTION_EVENTS, type ConnectionEvent } from '../auth/connection-events.js';
import type { ConnectionEventData } from './pdeck-event.js';
import { PdeckNotifier } from './pdeck-notifier.service.js';

/** Forwards connection life events from Auth to PDeck. */
@Injectable()
export class ConnectionEventsListener {
  private readonly logger = new Logger('PdeckEvents');

  constructor(@Inject(PdeckNotifier) private readonly notifier: PdeckNotifier) {}

  @OnEvent(CONNECTION_EVENTS.needsReauth)
  async onNeedsReauth(event: ConnectionEvent): Promise<void> {
    await this.forward('connection.needs_reauth', event);
  }

  @OnEvent(CONNECTION_EVENTS.deleted)
  async onDeleted(event: ConnectionEvent): Promise<void> {
    await this.forward('connection.deleted', event);
  }

  private async forward(
    type: 'connection.needs_reauth' | 'connection.deleted',
    event: ConnectionEvent,
  ): Promise<void> {
    // Explicit fields: the in-process event may grow (e.g. purgeItems) without reaching PDeck.
    const data: ConnectionEventData = {
      connectionId: event.connectionId,
      userId: event.userId,
      provider: event.provider,
      reason: event.reason,
    };
    try {
      await this.notifier.notify(type, data);
    } catch (err) {
      // The emitter does not await listeners: a failure to write the outbox must be logged here,
      // and must not fail the Auth operation that emitted the event.
      this.logger.error({
        msg: 'could not record a PDeck event',
        type,
        connectionId: event.connectionId,
        error: (err as Error).message,
      });
    }
  }
}
