import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { ConnectionStore, type ConnectionSummary } from '../auth/connection-store.service.js';
import { TokenService } from '../auth/token.service.js';
import { PdeckNotifier } from '../events/pdeck-notifier.service.js';
import { ItemsRepository } from '../items/items.repository.js';
import type { ItemDeletion, NormalizedItem, WebhookEvent } from '@pdeck/integration-sdk';
import { SyncTriggerService } from '../sync/sync-trigger.service.js';
import { SubscriptionsService } from './subscriptions.service.js';
import { WebhookDeliveriesService } from './webhook-deliveries.service.js';

type ItemsEvent = Extract<WebhookEvent, { type: 'items' }>;

export const isItemsEvent = (e: WebhookEvent): e is ItemsEvent => e.type === 'items';

/** The item events of one delivery; `delivery` is marked processed with their writes. */
export interface ItemsDelivery {
  events: readonly ItemsEvent[];
  delivery?: DeliveryToFinish;
}

/** Item changes of one connection written by one upsertPage call. */
interface ItemsPage {
  connection: ConnectionSummary;
  upserts: NormalizedItem[];
  deletions: ItemDeletion[];
  keys: Set<string>;
}

/**
 * The deliveries' item events as pages: per connection, in delivery order, a new page whenever
 * an event names an item the current page already holds; then sorted by (user, connection),
 * stable, so a connection's pages keep their order.
 */
function pagesOf(
  deliveries: readonly ItemsDelivery[],
  active: (connectionId: string) => ConnectionSummary | undefined,
): ItemsPage[] {
  const pages: ItemsPage[] = [];
  const open = new Map<string, ItemsPage>();
  for (const { events } of deliveries) {
    for (const event of events) {
      const connection = active(event.connectionId);
      if (!connection) continue;
      const keys = [...event.upserts, ...event.deletions].map(
        (i) => `${i.kind}\u0000${i.externalId}`,
      );
      let page = open.get(connection.id);
      if (!page || keys.some((k) => page!.keys.has(k))) {
        page = { connection, upserts: [], deletions: [], keys: new Set() };
        open.set(connection.id, page);
        pages.push(page);
      }
      page.upserts.push(...event.upserts);
      page.deletions.push(...event.deletions);
      for (const k of keys) page.keys.add(k);
    }
  }
  const order = (p: ItemsPage) => `${p.connection.userId}\u0000${p.connection.id}`;
  return pages
    .map((page, i) => ({ page, i, key: order(page) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.i - b.i))
    .map((x) => x.page);
}

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
 * grant the provider reports revoked moves its connection to needs_reauth; a subscription the
 * provider flags (Graph lifecycle notifications) is renewed or re-created at once.
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
    private readonly subscriptions: SubscriptionsService,
  ) {}

  /**
   * Returns true when `delivery` was marked processed together with the item writes (one commit
   * for both). Only when items are all there is to do: a delivery that also asks for a sync or a
   * re-auth stays `received` until those are done too, so a retry redoes them. False: the caller
   * finishes the delivery itself.
   */
  async apply(events: WebhookEvent[], delivery?: DeliveryToFinish): Promise<boolean> {
    const itemEvents = events.filter(isItemsEvent);
    const finishing = itemEvents.length === events.length ? delivery : undefined;
    if (itemEvents.length) await this.applyItems([{ events: itemEvents, delivery: finishing }]);
    for (const event of events) {
      // Conditional on 'active': a retried delivery or a second event changes nothing more.
      if (event.type === 'grant-revoked') {
        await this.tokens.markNeedsReauth(event.connectionId, event.reason);
      }
      if (event.type === 'subscription-attention') {
        await this.attention(event);
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

  /** Renews or re-creates the named subscription now, when it is one of the connection's. */
  private async attention(
    event: Extract<WebhookEvent, { type: 'subscription-attention' }>,
  ): Promise<void> {
    const [connection] = (await this.connections.findSummaries([event.connectionId])).values();
    if (connection?.status !== 'active') return;
    await this.subscriptions.queueAttention(
      connection.provider,
      event.connectionId,
      event.subscriptionExternalId,
      event.action,
    );
  }

  /**
   * The item changes of several deliveries, and the deliveries' processed mark, in one
   * transaction: all or nothing, so a failure leaves every one of them to be retried (the
   * worker then retries them one by one, so one bad delivery cannot hold the others back).
   *
   * Events of one connection are written as one page while their items do not overlap; an
   * item named by two deliveries starts a new page, so its changes apply in delivery order
   * exactly as they would one delivery at a time. Pages run in (user, connection) order: every
   * transaction takes users' feed locks in the same order, so two workers cannot deadlock.
   */
  async applyItems(deliveries: readonly ItemsDelivery[]): Promise<void> {
    const ids = new Set(deliveries.flatMap((d) => d.events.map((e) => e.connectionId)));
    const summaries = await this.connections.findSummaries([...ids]);
    // A connection ended since the delivery was routed keeps no new items.
    const pages = pagesOf(deliveries, (id) => {
      const connection = summaries.get(id);
      return connection?.status === 'active' ? connection : undefined;
    });
    const finishing = deliveries.flatMap((d) => (d.delivery ? [d.delivery] : []));
    await this.dataSource.transaction(async (manager) => {
      for (const page of pages) {
        const { connection } = page;
        const result = await this.items.upsertPage(manager, {
          userId: connection.userId,
          connectionId: connection.id,
          provider: connection.provider,
          upserts: page.upserts,
          deletions: page.deletions,
        });
        await this.notify(manager, {
          connection,
          upserted: result.inserted + result.updated,
          deleted: result.deleted,
          from: result.minChangeSeq,
          to: result.maxChangeSeq,
        });
      }
      await this.deliveries.finishProcessed(finishing, manager);
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
