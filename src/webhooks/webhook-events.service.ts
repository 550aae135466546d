import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { ConnectionStore, type ConnectionSummary } from '../auth/connection-store.service.js';
import { TokenService } from '../auth/token.service.js';
import { PdeckNotifier } from '../events/pdeck-notifier.service.js';
import { ItemsRepository } from '../items/items.repository.js';
import type { WebhookEvent } from '../providers/webhook-contract.js';
import { SyncTriggerService } from '../sync/sync-trigger.service.js';
import { WebhookDeliveriesService } from './webhook-deliveries.service.js';

type ItemsEvent = Extract<WebhookEvent, { type: 'items' }>;

/** The delivery whose events these are: marked processed in the same transaction as its items. */
export interface DeliveryToFinish {
  rowId: string;
  connectionIds: readonly string[];
}

interface Written {
  connection: ConnectionSummary;
  upserted: number;
  deleted: number;
  from: string | null;
  to: string | null;
}

/**
 * Applies parsed webhook events. Item changes go through the same versioned upsert as syncs (a
 * late, older delivery cannot overwrite a newer state); "something changed" becomes an
 * incremental sync of the named resources, coalesced per connection by SyncTriggerService; a
 * grant the provider reports revoked moves its connection to needs_reauth.
 */
@Injectable()
export class WebhookEventsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly connections: ConnectionStore,
    private readonly items: ItemsRepository,
    private readonly syncs: SyncTriggerService,
    private readonly notifier: PdeckNotifier,
    private readonly tokens: TokenService,
    private readonly deliveries: WebhookDeliveriesService,
  ) {}

  /**
   * Returns true when `delivery` was marked processed together with the item writes (one commit
   * for both). Only when items are all there is to do: a delivery that also asks for a sync or a
   * re-auth stays `received` until those are done too, so a retry redoes them. False: the caller
   * finishes the delivery itself.
   */
  async apply(events: WebhookEvent[], delivery?: DeliveryToFinish): Promise<boolean> {
    const itemEvents = events.filter((e): e is ItemsEvent => e.type === 'items');
    const finishing = itemEvents.length === events.length ? delivery : undefined;
    if (itemEvents.length) await this.applyItems(itemEvents, finishing);
    for (const event of events) {
      // Conditional on 'active': a retried delivery or a second event changes nothing more.
      if (event.type === 'grant-revoked') {
        await this.tokens.markNeedsReauth(event.connectionId, event.reason);
      }
    }
    const changed = new Map<string, Set<string>>();
    for (const event of events) {
      if (event.type !== 'resource-changed') continue;
      const resources = changed.get(event.connectionId) ?? new Set<string>();
      changed.set(event.connectionId, resources.add(event.resourceId));
    }
    for (const [connectionId, resources] of changed) {
      await this.syncs.trigger(connectionId, 'incremental', 'webhook', [...resources]);
    }
    return itemEvents.length > 0 && finishing !== undefined;
  }

  /** All item changes of one delivery in one transaction: a retry re-applies all or nothing. */
  private async applyItems(events: ItemsEvent[], delivery?: DeliveryToFinish): Promise<void> {
    const active = new Map<string, ConnectionSummary>();
    for (const id of new Set(events.map((e) => e.connectionId))) {
      const connection = await this.connections.findSummary(id);
      // A connection ended since the delivery was routed keeps no new items.
      if (connection?.status === 'active') active.set(id, connection);
    }
    await this.dataSource.transaction(async (manager) => {
      for (const event of events) {
        const connection = active.get(event.connectionId);
        if (!connection) continue;
        const result = await this.items.upsertPage(manager, {
          userId: connection.userId,
          connectionId: connection.id,
          provider: connection.provider,
          upserts: event.upserts,
          deletions: event.deletions,
        });
        await this.notify(manager, {
          connection,
          upserted: result.inserted + result.updated,
          deleted: result.deleted,
          from: result.minChangeSeq,
          to: result.maxChangeSeq,
        });
      }
      if (delivery) {
        const { rowId, connectionIds } = delivery;
        await this.deliveries.finish(rowId, 'processed', null, connectionIds, manager);
      }
    });
  }

  /** In the delivery's transaction: the event exists exactly when the change does. */
  private async notify(manager: EntityManager, w: Written): Promise<void> {
    if (w.upserted + w.deleted === 0 || !w.from || !w.to) return;
    await this.notifier.record(manager, 'items.changed', {
      connectionId: w.connection.id,
      userId: w.connection.userId,
      provider: w.connection.provider,
      upserted: w.upserted,
      deleted: w.deleted,
      fromChangeSeq: w.from,
      toChangeSeq: w.to,
    });
  }
}
