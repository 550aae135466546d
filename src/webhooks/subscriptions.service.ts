import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import type { Queue } from 'bullmq';
import { CONNECTION_EVENTS, type ConnectionEvent } from '../auth/connection-events.js';
import { ProviderRegistry } from '../providers/provider-registry.js';
import {
  SUBSCRIBE_STALE_MS,
  SubscriptionLifecycleService,
} from './subscription-lifecycle.service.js';
import { WebhookSubscriptionsStore } from './webhook-subscriptions.store.js';
import {
  CLOCK,
  type Clock,
  DEFAULT_RENEW_BEFORE_MS,
  RENEWALS_EVERY_MS,
  RENEWALS_SCHEDULER_ID,
  SUBSCRIPTION_JOB,
  type SubscriptionJobData,
  WEBHOOK_SUBSCRIPTIONS_QUEUE,
} from './webhooks.constants.js';
import { RESOURCES_REMOVED_EVENT, type ResourcesRemovedEvent } from '../sync/sync.constants.js';

/**
 * Finished jobs of the subscriptions queue, bounded by count and age (Redis runs with
 * noeviction). The counts bound the whole set, so every job of the queue uses the same values.
 */
const JOB_RETENTION = {
  removeOnComplete: { age: 86_400, count: 1_000 },
  removeOnFail: { age: 7 * 86_400, count: 1_000 },
};

const JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 5_000 },
  ...JOB_RETENTION,
};

/**
 * Follows connections' lives: subscribe on connect (as a job, since it calls the provider once per
 * resource), renew before expiry (a job scheduler), stop on disconnect or lost grant. Stopping
 * runs inline: DisconnectService wipes the credentials right after connection.deleted returns.
 */
@Injectable()
export class SubscriptionsService {
  private readonly logger = new Logger('WebhookSubscriptions');

  constructor(
    @InjectQueue(WEBHOOK_SUBSCRIPTIONS_QUEUE) private readonly queue: Queue<SubscriptionJobData>,
    private readonly lifecycle: SubscriptionLifecycleService,
    private readonly store: WebhookSubscriptionsStore,
    private readonly registry: ProviderRegistry,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @OnEvent(CONNECTION_EVENTS.created)
  @OnEvent(CONNECTION_EVENTS.reconnected)
  async onConnected(event: ConnectionEvent): Promise<void> {
    if (!this.registry.isEnabled(event.provider)) return;
    if (!this.registry.get(event.provider).webhooks?.subscribe) return;
    try {
      // A reconnect tries every resource again, whatever failed or was unsupported before.
      await this.store.clearFinishedAttempts(event.connectionId);
      await this.queueSubscribe(event.connectionId);
    } catch (error) {
      // Periodic syncs still cover the connection; the next reconnect subscribes again.
      this.logger.error({
        msg: 'could not queue webhook subscriptions',
        connectionId: event.connectionId,
        provider: event.provider,
        error: (error as Error).message,
      });
    }
  }

  @OnEvent(CONNECTION_EVENTS.deleted)
  @OnEvent(CONNECTION_EVENTS.needsReauth)
  async onEnded(event: ConnectionEvent): Promise<void> {
    try {
      await this.stopAll(event.connectionId);
      await this.store.clearAttempts(event.connectionId);
    } catch (error) {
      this.logger.error({
        msg: 'could not stop webhook subscriptions',
        connectionId: event.connectionId,
        provider: event.provider,
        error: (error as Error).message,
      });
    }
  }

  /** Stops every subscription of the connection at the provider and deletes the rows. */
  /** A board the member left, a calendar the user hid: stop watching it. */
  @OnEvent(RESOURCES_REMOVED_EVENT)
  async onResourcesRemoved(event: ResourcesRemovedEvent): Promise<void> {
    for (const resourceId of event.resourceIds) {
      await this.store.clearAttempt(event.connectionId, resourceId);
    }
    const subs = (await this.store.listForConnection(event.connectionId)).filter((s) =>
      event.resourceIds.includes(s.resourceId),
    );
    if (subs.length === 0) return;
    const scope = await this.lifecycle.scopeOf(event.connectionId, false);
    for (const sub of subs) {
      if (scope) await this.lifecycle.stop(scope, sub);
      else await this.store.delete(sub.id);
    }
  }

  async stopAll(connectionId: string): Promise<number> {
    const subs = await this.store.listForConnection(connectionId);
    if (subs.length === 0) return 0;
    const scope = await this.lifecycle.scopeOf(connectionId, false);
    if (!scope) {
      for (const sub of subs) await this.store.delete(sub.id);
      return subs.length;
    }
    await Promise.all(subs.map((sub) => this.lifecycle.stop(scope, sub)));
    this.logger.log({
      msg: 'webhook subscriptions stopped',
      connectionId,
      provider: scope.connection.provider,
      stopped: subs.length,
    });
    return subs.length;
  }

  /** Idempotent (upsert by id): every worker may call it at startup. */
  async scheduleRenewals(): Promise<void> {
    await this.queue.upsertJobScheduler(
      RENEWALS_SCHEDULER_ID,
      { every: RENEWALS_EVERY_MS },
      {
        name: SUBSCRIPTION_JOB.renewDue,
        data: {},
        opts: JOB_RETENTION,
      },
    );
  }

  private async queueSubscribe(connectionId: string): Promise<void> {
    await this.queue.add(
      SUBSCRIPTION_JOB.subscribe,
      { connectionId },
      // One pending subscribe per connection: a quick reconnect does not subscribe twice.
      { ...JOB_OPTIONS, deduplication: { id: `subscribe-${connectionId}` } },
    );
  }

  /**
   * The provider asked for a subscription of this connection to be renewed (`renew`) or
   * re-created (`replace`) now rather than at its expiry. Unknown ids and subscriptions of other
   * connections are ignored: a delivery can only act on what its own connection owns.
   */
  async queueAttention(
    provider: string,
    connectionId: string,
    subscriptionExternalId: string,
    action: 'renew' | 'replace',
  ): Promise<boolean> {
    const sub = await this.store.findByExternalId(provider, subscriptionExternalId);
    if (!sub || sub.connectionId !== connectionId) return false;
    await this.queue.add(
      SUBSCRIPTION_JOB.renew,
      { subscriptionId: sub.id, replace: action === 'replace' },
      { ...JOB_OPTIONS, deduplication: { id: `attention-${action}-${sub.id}` } },
    );
    return true;
  }

  /**
   * Queues a renewal (retried with backoff) for every subscription inside its provider's margin,
   * and a subscribe for active connections that have none (a subscribe lost at connect time) or
   * whose failed resources are due again (SubscriptionLifecycleService backs off per resource,
   * so a resource that keeps failing is retried at most daily, not at every round).
   */
  async queueDueRenewals(): Promise<number> {
    let queued = 0;
    for (const provider of this.registry.enabled()) {
      if (!provider.webhooks?.renew && !provider.webhooks?.subscribe) continue;
      if (provider.webhooks.subscribe) {
        const now = this.clock.now();
        const stale = new Date(now.getTime() - SUBSCRIBE_STALE_MS);
        for (const connectionId of await this.store.connectionsToSubscribe(
          provider.catalog.id,
          now,
          stale,
        )) {
          await this.queueSubscribe(connectionId);
          queued++;
        }
      }
      const ids = await this.lifecycle.dueFor(provider, this.clock.now(), DEFAULT_RENEW_BEFORE_MS);
      for (const subscriptionId of ids) {
        await this.queue.add(
          SUBSCRIPTION_JOB.renew,
          { subscriptionId },
          {
            ...JOB_OPTIONS,
            deduplication: { id: `renew-${subscriptionId}` },
          },
        );
        queued++;
      }
    }
    return queued;
  }
}
