import { Inject, Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { ConnectionStore } from '../auth/connection-store.service.js';
import type { Connection } from '../auth/entities/connection.entity.js';
import { TokenService } from '../auth/token.service.js';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import { asProviderError } from '../providers/errors/provider-error.js';
import type { IntegrationProvider, ProviderContext } from '../providers/integration-provider.js';
import { ProviderContextFactory } from '../providers/provider-context.factory.js';
import { ProviderRegistry } from '../providers/provider-registry.js';
import type { StoredWebhookSubscription, WebhookHandler } from '../providers/webhook-contract.js';
import { WebhookSubscriptionsStore } from './webhook-subscriptions.store.js';
import { WEBHOOKS_PATH } from './webhooks.constants.js';

/** Failures a retry cannot fix: the grant is gone, or the resource is not ours to watch. */

interface Scope {
  connection: Connection;
  provider: IntegrationProvider;
  handler: WebhookHandler;
  ctx: ProviderContext;
}

/**
 * Creates and renews subscriptions at providers (worker jobs). Rows are written only after the
 * provider answered, so a row always names a subscription that exists there.
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
  ) {}

  callbackUrl(provider: string): string {
    return `${this.config.publicUrl}${WEBHOOKS_PATH}/${provider}`;
  }

  /** Subscribes every resource of the connection not yet watched. Returns how many were created. */
  async subscribeConnection(connectionId: string): Promise<number> {
    const scope = await this.scopeOf(connectionId);
    if (!scope?.handler.subscribe) return 0;
    const { connection, provider, handler, ctx } = scope;
    return this.guard(provider, async () => {
      const resources = await provider.listResources(ctx);
      const watched = new Set(
        (await this.store.listForConnection(connection.id)).map((s) => s.resourceId),
      );
      let created = 0;
      for (const resource of resources.filter((r) => !watched.has(r.id))) {
        const callbackUrl = this.callbackUrl(connection.provider);
        const sub = await handler.subscribe!(ctx, resource, callbackUrl);
        if (!sub) continue;
        const input = {
          connectionId: connection.id,
          provider: connection.provider,
          resourceId: resource.id,
          callbackUrl,
        };
        await this.store.create(input, sub);
        created++;
      }
      this.logger.log({
        msg: 'webhook subscriptions created',
        connectionId,
        provider: connection.provider,
        created,
      });
      return created;
    });
  }

  /**
   * Extends one subscription, or replaces it where the provider cannot extend (Google): the new
   * one is stored before the old one is stopped, so there is no gap in coverage.
   */
  async renew(subscriptionId: string): Promise<void> {
    const sub = await this.store.get(subscriptionId);
    const scope = sub ? await this.scopeOf(sub.connectionId) : null;
    if (!sub || !scope) return;
    const { provider, handler, ctx, connection } = scope;
    await this.guard(provider, async () => {
      if (handler.renew) {
        await this.store.replace(sub.id, await handler.renew(ctx, sub));
      } else if (handler.subscribe) {
        const resource = { id: sub.resourceId, name: sub.resourceId };
        const next = await handler.subscribe(ctx, resource, sub.callbackUrl);
        if (next) {
          const input = {
            connectionId: sub.connectionId,
            provider: connection.provider,
            resourceId: sub.resourceId,
            callbackUrl: sub.callbackUrl,
          };
          await this.store.create(input, next);
        }
        await this.stop(scope, sub);
      }
    });
    this.logger.log({
      msg: 'webhook subscription renewed',
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
      const failure = asProviderError(error, provider.catalog.id);
      if (failure.permanent) throw new UnrecoverableError(`${failure.code}: ${failure.message}`);
      throw failure;
    }
  }
}
