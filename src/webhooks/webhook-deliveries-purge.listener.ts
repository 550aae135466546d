import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { CONNECTION_EVENTS, type ConnectionEvent } from '../auth/connection-events.js';
import { inBatches } from '../core/database/in-batches.js';
import { MetricsService } from '../core/metrics/metrics.service.js';
import { RETENTION_BATCH, WebhookDeliveriesService } from './webhook-deliveries.service.js';

/**
 * Deletes a connection's webhook deliveries when it is removed with `purgeItems`: the stored
 * bodies are the provider's copy of that user's data. A delivery belongs to the connections the
 * worker routed it to (webhook_deliveries.connection_ids); one shared with another connection
 * (two users on one Trello board) goes too, having been applied already. Deliveries not routed to
 * it (still waiting, or arriving after the disconnect, which route nowhere and end `unroutable`)
 * keep their body until retention strips it.
 */
@Injectable()
export class WebhookDeliveriesPurgeListener {
  private readonly logger = new Logger('WebhookDeliveries');

  constructor(
    private readonly deliveries: WebhookDeliveriesService,
    private readonly metrics: MetricsService,
  ) {}

  @OnEvent(CONNECTION_EVENTS.deleted)
  async onConnectionDeleted(event: ConnectionEvent): Promise<void> {
    if (event.purgeItems !== true) return;
    try {
      const purged = await inBatches(
        (batch) => this.deliveries.purgeConnection(event.connectionId, batch),
        RETENTION_BATCH,
        (n) => this.metrics.retentionRows.inc({ table: 'webhook_deliveries', action: 'purged' }, n),
      );
      this.logger.log({
        msg: 'purged webhook deliveries',
        connectionId: event.connectionId,
        purged,
      });
    } catch (error) {
      // Logged, not thrown: the disconnect itself goes ahead (as the items purge does).
      this.logger.error({
        msg: 'could not purge webhook deliveries',
        connectionId: event.connectionId,
        error: (error as Error).message,
      });
    }
  }
}
