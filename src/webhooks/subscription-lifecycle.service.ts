import { Inject, Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { ConnectionStore } from '../auth/connection-store.service.js';
import type { Connection } from '../auth/entities/connection.entity.js';
import { TokenService } from '../auth/token.service.js';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import {
  asProviderError,
  type ProviderError,
  type IntegrationProvider,
  type ProviderContext,
  type SyncResource,
  type NewSubscription,
  type StoredWebhookSubscription,
  type WebhookHandler,
} from '@pdeck/integration-sdk';
import { ProviderContextFactory } from '../providers/provider-context.factory.js';
import { ProviderRegistry } from '../providers/provider-registry.js';
import {
  type SubscribeAttempt,
  type SubscriptionTarget,
  WebhookSubscriptionsStore,
} from './webhook-subscriptions.store.js';
import { CLOCK, type Clock, RENEWALS_EVERY_MS, WEBHOOKS_PATH } from './webhooks.constants.js';

/** First wait before subscribing a resource again after a failure: one renewal round. */
export const SUBSCRIBE_RETRY_BASE_MS = RENEWALS_EVERY_MS;
/** The wait doubles per consecutive failure up to this: a resource that keeps failing, daily. */
export const SUBSCRIBE_RETRY_MAX_MS = 24 * 3600_000;
/** A subscribe call under way for longer than this is taken as lost (its worker died). */
export const SUBSCRIBE_STALE_MS = 10 * 60_000;
/** `last_error` of a resource the provider offers no subscription for. */
const UNSUPPORTED = 'the provider offers no subscription for it';
/** The `resource_id` of the attempt row that records a failed listing of the resources. */
export const LISTING_ATTEMPT = '';

/** Delay before the next subscribe of a resource that failed `failures` times in a row. */
export function subscribeRetryDelay(failures: number): number {
  return Math.min(SUBSCRIBE_RETRY_BASE_MS * 2 ** Math.max(0, failures - 1), SUBSCRIBE_RETRY_MAX_MS);
}

/** Whether the sweep should try the resource of this attempt again at `now`. */
export function attemptIsDue(attempt: SubscribeAttempt, now: Date): boolean {
  if (attempt.status === 'failed') {
    return attempt.nextAttemptAt !== null && attempt.nextAttemptAt.getTime() <= now.getTime();
  }
  if (attempt.status === 'pending') {
    return attempt.startedAt.getTime() <= now.getTime() - SUBSCRIBE_STALE_MS;
  }
  return false; // unsupported: until the connection is reconnected
}

/**
 * Failures that are about the whole connection, not the resource at hand: the grant is gone, a
 * rate limit holds, or the access token was refused. The job stops there (and is retried or
 * failed by BullMQ as before); any other failure is recorded against its resource only.
 */
function concernsConnection(failure: ProviderError): boolean {
  return (
    failure.code === 'AUTH_REVOKED' ||
    failure.code === 'RATE_LIMITED' ||
    failure.accessTokenRejected
  );
}

/** What a failure leaves in last_error: the provider error's code and message, bounded. */
function describeFailure(failure: ProviderError): string {
  return `${failure.code}: ${failure.message}`.slice(0, 500);
}

type ResourceOutcome = 'created' | 'failed' | 'unsupported';

interface Scope {
  connection: Connection;
  provider: IntegrationProvider;
  handler: WebhookHandler;
  ctx: ProviderContext;
}

/**
 * Creates and renews subscriptions at providers (worker jobs). Subscription rows are written only
 * after the provider answered, so a row always names a subscription that exists there; until
 * then, and after a failure, the resource has an attempt row (webhook_subscribe_attempts): a call
 * under way, or the last failure, its reason and when to try again. Each resource is subscribed
 * on its own: one that fails does not keep the others from being watched.
 */
@Injectable()
export class SubscriptionLifecycleService {
  private readonly logger = new Logger('WebhookSubscriptions');

  constructor(
    private readonly store: WebhookSubscriptionsStore,
    private readonly connections: ConnectionStore,
    private readonly tokens: TokenService,
    private readonly registry: ProviderRegistry,
    private readonly contexts: ProviderContextFactory,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  callbackUrl(provider: string): string {
    return `${this.config.publicUrl}${WEBHOOKS_PATH}/${provider}`;
  }

  /**
   * Subscribes every resource of the connection not yet watched, each on its own: a failure is
   * recorded against its resource (retried by the renewal round after a backoff) and the next
   * resource is tried. Resources whose last failure is still inside its backoff, or that the
   * provider cannot watch, are left alone. Returns how many subscriptions were created.
   */
  async subscribeConnection(connectionId: string): Promise<number> {
    const scope = await this.scopeOf(connectionId);
    if (!scope?.handler.subscribe) return 0;
    const { connection } = scope;
    const resources = await this.listResources(scope);
    if (!resources) return 0;
    const now = this.clock.now();
    const watched = new Set(
      (await this.store.listForConnection(connection.id)).map((s) => s.resourceId),
    );
    const attempts = new Map(
      (await this.store.attemptsOf(connection.id)).map((a) => [a.resourceId, a]),
    );
    const outcomes: Record<ResourceOutcome | 'waiting', number> = {
      created: 0,
      failed: 0,
      unsupported: 0,
      waiting: 0,
    };
    for (const resource of resources) {
      if (watched.has(resource.id)) continue;
      const attempt = attempts.get(resource.id);
      if (attempt && !attemptIsDue(attempt, now)) {
        outcomes.waiting++;
        continue;
      }
      outcomes[await this.subscribeResource(scope, resource)]++;
    }
    this.logger.log({
      msg: 'webhook subscriptions created',
      connectionId,
      provider: connection.provider,
      ...outcomes,
    });
    return outcomes.created;
  }

  /** The resources to watch; null when listing them failed (recorded, retried with backoff). */
  private async listResources(scope: Scope): Promise<SyncResource[] | null> {
    const { connection, provider, ctx } = scope;
    try {
      const resources = await provider.listResources(ctx);
      await this.store.clearAttempt(connection.id, LISTING_ATTEMPT);
      return resources;
    } catch (error) {
      const failure = asProviderError(error, provider.catalog.id);
      if (concernsConnection(failure)) throw jobError(failure);
      const target = this.targetOf(connection, LISTING_ATTEMPT);
      await this.recordFailure(target, failure);
      return null;
    }
  }

  private async subscribeResource(scope: Scope, resource: SyncResource): Promise<ResourceOutcome> {
    const { connection, provider, handler, ctx } = scope;
    // The current PUBLIC_URL: what this subscription will be called at and signed for.
    const target = this.targetOf(connection, resource.id);
    await this.store.beginAttempt(target, this.clock.now());
    let created: NewSubscription | null;
    try {
      created = await handler.subscribe!(ctx, resource, target.callbackUrl);
    } catch (error) {
      const failure = asProviderError(error, provider.catalog.id);
      if (concernsConnection(failure)) {
        await this.store.abandonAttempt(target);
        throw jobError(failure);
      }
      await this.recordFailure(target, failure);
      return 'failed';
    }
    if (!created) {
      await this.store.markUnsupported(target, UNSUPPORTED, this.clock.now());
      this.logger.log({
        msg: 'resource left to scheduled syncs: no webhook subscription possible',
        connectionId: connection.id,
        provider: connection.provider,
        resourceId: resource.id,
      });
      return 'unsupported';
    }
    await this.store.create(target, created);
    return 'created';
  }

  private async recordFailure(target: SubscriptionTarget, failure: ProviderError): Promise<void> {
    const { failures, nextAttemptAt } = await this.store.failAttempt(
      target,
      describeFailure(failure),
      this.clock.now(),
      subscribeRetryDelay,
    );
    this.logger.warn({
      msg:
        target.resourceId === LISTING_ATTEMPT
          ? 'webhook subscribe could not list the resources'
          : 'webhook subscribe failed for one resource',
      connectionId: target.connectionId,
      provider: target.provider,
      resourceId: target.resourceId,
      code: failure.code,
      failures,
      nextAttemptAt: nextAttemptAt.toISOString(),
    });
  }

  private targetOf(connection: Connection, resourceId: string): SubscriptionTarget {
    return {
      connectionId: connection.id,
      provider: connection.provider,
      resourceId,
      callbackUrl: this.callbackUrl(connection.provider),
    };
  }

  /**
   * Extends one subscription, or replaces it where the provider cannot extend (Google) or where
   * `replace` says the provider has dropped it: the new one is stored before the old one is
   * stopped, so there is no gap in coverage.
   */
  async renew(subscriptionId: string, replace = false): Promise<void> {
    const sub = await this.store.get(subscriptionId);
    const scope = sub ? await this.scopeOf(sub.connectionId) : null;
    if (!sub || !scope) return;
    const { provider, handler, ctx, connection } = scope;
    await this.guard(provider, async () => {
      if (handler.renew && !replace) {
        await this.store.replace(sub.id, await handler.renew(ctx, sub));
      } else if (handler.subscribe) {
        const resource = { id: sub.resourceId, name: sub.resourceId };
        // A replacement registers the current PUBLIC_URL, not the one the old subscription has.
        const target = this.targetOf(connection, sub.resourceId);
        const next = await handler.subscribe(ctx, resource, target.callbackUrl);
        if (next) await this.store.create(target, next);
        else await this.store.markUnsupported(target, UNSUPPORTED, this.clock.now());
        await this.stop(scope, sub);
      }
    });
    this.logger.log({
      msg: replace ? 'webhook subscription replaced' : 'webhook subscription renewed',
      connectionId: sub.connectionId,
      provider: connection.provider,
      subscriptionId,
    });
  }

  /** Ids of subscriptions of `provider` due for renewal at `now`, per its margin. */
  dueFor(provider: IntegrationProvider, now: Date, defaultMargin: number): Promise<string[]> {
    const margin = provider.webhooks?.renewBefore ?? defaultMargin;
    return this.store.expiringBefore(provider.catalog.id, new Date(now.getTime() + margin));
  }

  /**
   * Stops one subscription at the provider (best effort: it may be gone, or the grant may be)
   * and deletes its row either way, so nothing routes to it again.
   */
  async stop(scope: Scope, sub: StoredWebhookSubscription): Promise<void> {
    try {
      await scope.handler.unsubscribe?.(scope.ctx, sub);
    } catch (error) {
      const failure = asProviderError(error, scope.connection.provider);
      this.logger.warn({
        msg: 'webhook unsubscribe failed; row removed anyway',
        connectionId: sub.connectionId,
        provider: scope.connection.provider,
        subscriptionId: sub.id,
        code: failure.code,
      });
    }
    await this.store.delete(sub.id);
  }

  /**
   * The provider side of a connection, or null when it has no webhooks. Credentials come from
   * TokenService (refreshed) while the connection is active; after that, the stored ones are the
   * only chance to stop subscriptions at the provider.
   */
  async scopeOf(connectionId: string, requireActive = true): Promise<Scope | null> {
    const connection = await this.connections.find(connectionId);
    if (!connection || (requireActive && connection.status !== 'active')) return null;
    const provider = this.registry.find(connection.provider);
    if (!provider?.webhooks) return null;
    const ctx = this.contexts.create({
      provider: connection.provider,
      connectionId: connection.id,
      accountId: connection.accountId,
      settings: connection.settings,
      credentials: async () =>
        connection.status === 'active'
          ? this.tokens.getCredentials(connection.id)
          : this.connections.credentialsOf(connection),
    });
    return { connection, provider, handler: provider.webhooks, ctx };
  }

  private async guard<T>(provider: IntegrationProvider, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw jobError(asProviderError(error, provider.catalog.id));
    }
  }
}

/** What a job throws for a provider failure: permanent ones are not retried by BullMQ. */
function jobError(failure: ProviderError): Error {
  return failure.permanent
    ? new UnrecoverableError(`${failure.code}: ${failure.message}`)
    : failure;
}
