import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ConnectionStore } from '../auth/connection-store.service.js';
import type { Connection } from '../auth/entities/connection.entity.js';
import { TokenService } from '../auth/token.service.js';
import { PdeckNotifier } from '../events/pdeck-notifier.service.js';
import { ItemsRepository } from '../items/items.repository.js';
import { ProviderError } from '../providers/errors/provider-error.js';
import type {
  IntegrationProvider,
  ProviderContext,
  SyncPage,
  SyncResource,
} from '../providers/integration-provider.js';
import { ProviderContextFactory } from '../providers/provider-context.factory.js';
import { ProviderRegistry } from '../providers/provider-registry.js';
import type { SyncState } from './entities/sync-state.entity.js';
import { decide, PermanentSyncError } from './sync-error-policy.js';
import { RateBudgetService } from './rate-budget.service.js';
import { SyncRunsService, type PageCounts } from './sync-runs.service.js';
import { SyncStateService } from './sync-state.service.js';
import {
  RESOURCES_REMOVED_EVENT,
  type ResourcesRemovedEvent,
  type SyncJobData,
} from './sync.constants.js';

/** Thrown to the processor: re-queue the job at `until` without holding a worker slot. */
export class SyncDelayedError extends Error {
  /**
   * Set when the limit hit a resource after the listing: the resources still to do, so the
   * resumed job skips the listing call (Trello allows 100 /members calls per 15 min per token).
   */
  remainingResourceIds?: string[];

  constructor(readonly until: Date) {
    super(`Rate limited until ${until.toISOString()}`);
  }
}

interface RunScope {
  connection: Connection;
  provider: IntegrationProvider;
  ctx: ProviderContext;
  runId: string;
}

/**
 * Runs one sync of one connection: lists its resources, then streams each resource's pages from
 * the provider, committing every page's items together with its cursor in one transaction, so a
 * crash anywhere resumes from the last committed page with no gap and no duplicate.
 */
@Injectable()
export class SyncRunnerService {
  private readonly logger = new Logger(SyncRunnerService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly connections: ConnectionStore,
    private readonly tokens: TokenService,
    private readonly registry: ProviderRegistry,
    private readonly contexts: ProviderContextFactory,
    private readonly states: SyncStateService,
    private readonly runs: SyncRunsService,
    private readonly items: ItemsRepository,
    private readonly notifier: PdeckNotifier,
    private readonly budgets: RateBudgetService,
    private readonly events: EventEmitter2,
  ) {}

  /** Returns the run's outcome; throws for the processor to retry, delay or give up. */
  async run(
    data: SyncJobData & { syncRunId: string },
    signal?: AbortSignal,
  ): Promise<{ outcome: 'succeeded' | 'partial' | 'skipped'; provider: string | null }> {
    const connection = await this.connections.find(data.connectionId);
    if (!connection || connection.status !== 'active') {
      await this.runs.finish(data.syncRunId, 'failed', {
        code: 'CONNECTION_INACTIVE',
        message: 'Connection is not active',
      });
      return { outcome: 'skipped', provider: connection?.provider ?? null };
    }
    const provider = this.registry.get(connection.provider);
    const ctx = this.contexts.create({
      provider: connection.provider,
      connectionId: connection.id,
      accountId: connection.accountId,
      settings: connection.settings,
      credentials: () => this.tokens.getCredentials(connection.id),
      signal,
    });
    const scope: RunScope = { connection, provider, ctx, runId: data.syncRunId };
    await this.runs.markRunning(data.syncRunId, connection.id, data.mode, data.trigger);
    const runLog = { connectionId: connection.id, syncRunId: data.syncRunId, mode: data.mode };
    this.logger.log({ ...runLog, trigger: data.trigger }, 'Sync run started');

    const wanted = await this.resourcesToSync(scope, data.resourceIds);
    let partial = false;
    for (const [index, resource] of wanted.entries()) {
      try {
        partial = !(await this.syncResource(scope, resource, data.mode)) || partial;
      } catch (error) {
        if (error instanceof SyncDelayedError) {
          error.remainingResourceIds = wanted.slice(index).map((r) => r.id);
        }
        throw error;
      }
    }
    const outcome = partial ? 'partial' : 'succeeded';
    await this.runs.finish(data.syncRunId, outcome);
    this.logger.log({ ...runLog, outcome }, 'Sync run finished');
    return { outcome, provider: connection.provider };
  }

  /**
   * Webhook-triggered runs name their resources: use the known ones without listing again (Trello
   * allows only 100 /members calls per 15 min per token). Otherwise list, and remember new ones.
   */
  private async resourcesToSync(scope: RunScope, resourceIds?: string[]): Promise<SyncResource[]> {
    if (resourceIds?.length) {
      const known = (await this.states.list(scope.connection.id)).filter((s) =>
        resourceIds.includes(s.resourceId),
      );
      if (known.length === resourceIds.length) {
        return known.map((s) => ({ id: s.resourceId, name: s.resourceName ?? s.resourceId }));
      }
    }
    const resources = await this.guard(scope, () => scope.provider.listResources(scope.ctx));
    await this.states.ensureResources(scope.connection.id, resources);
    await this.retireUnlisted(scope, resources);
    return resourceIds ? resources.filter((r) => resourceIds.includes(r.id)) : resources;
  }

  /**
   * Resources the listing no longer returns are gone for this account: their items become
   * tombstones (the user no longer sees them at the provider either), their state is dropped and
   * Webhooks is told to stop their subscriptions.
   */
  private async retireUnlisted(scope: RunScope, listed: SyncResource[]): Promise<void> {
    const ids = new Set(listed.map((r) => r.id));
    const gone = (await this.states.list(scope.connection.id)).filter(
      (s) => !ids.has(s.resourceId),
    );
    if (gone.length === 0) return;
    const { connection } = scope;
    for (const state of gone) {
      await this.dataSource.transaction(async (manager) => {
        await this.items.sweep(manager, {
          connectionId: connection.id,
          userId: connection.userId,
          containerId: state.resourceId,
          generation: 2_147_483_647, // every item of the container is "unseen"
        });
        await manager.query('DELETE FROM sync_states WHERE id = $1', [state.id]);
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

  /** False when the resource was skipped (permission / not found); throws otherwise. */
  private async syncResource(
    scope: RunScope,
    resource: SyncResource,
    mode: SyncJobData['mode'],
  ): Promise<boolean> {
    let state = (await this.states.get(scope.connection.id, resource.id))!;
    // A full pass already in progress is resumed from its committed page cursor.
    if (state.stage === 'incremental' && (mode === 'full' || state.cursor === null)) {
      state = await this.states.startFullPass(state);
    }
    try {
      await this.streamPages(scope, resource, state);
    } catch (error) {
      const failure = scope.provider.mapError(error);
      const decision = decide(failure);
      if (decision.action === 'reset-cursor') {
        this.logger.warn(
          { connectionId: scope.connection.id, resourceId: resource.id },
          'Cursor invalid: full resync of the resource',
        );
        const fresh = await this.states.startFullPass(state);
        // A full pass that fails too goes through the policy like any other failure.
        await this.streamPages(scope, resource, fresh).catch((again: unknown) =>
          this.escalate(scope, scope.provider.mapError(again)),
        );
      } else if (decision.action === 'skip-resource') {
        await this.states.markFailed(state.id, decision.status, failure.message);
        return false;
      } else {
        await this.states.markFailed(state.id, 'error', failure.message);
        await this.escalate(scope, failure);
      }
    }
    await this.states.markSucceeded(state.id);
    return true;
  }

  private async streamPages(
    scope: RunScope,
    resource: SyncResource,
    state: SyncState,
  ): Promise<void> {
    const fullPass = state.stage === 'full';
    const pages = scope.provider.sync(
      scope.ctx,
      resource,
      state.cursor,
      fullPass ? 'full' : 'incremental',
    );
    for await (const page of pages) {
      await this.commitPage(scope, resource, state, page, fullPass);
    }
  }

  private async commitPage(
    scope: RunScope,
    resource: SyncResource,
    state: SyncState,
    page: SyncPage,
    fullPass: boolean,
  ): Promise<void> {
    const { connection } = scope;
    const result = await this.dataSource.transaction(async (manager) => {
      const written = await this.items.upsertPage(manager, {
        userId: connection.userId,
        connectionId: connection.id,
        provider: connection.provider,
        upserts: page.upserts,
        deletions: page.deletions,
        generation: fullPass ? state.generation : undefined,
      });
      let swept = 0;
      let sweptMax: string | null = null;
      let sweptMin: string | null = null;
      if (fullPass && page.fullPassComplete) {
        const sweep = await this.items.sweep(manager, {
          connectionId: connection.id,
          userId: connection.userId,
          containerId: resource.id,
          generation: state.generation,
          passStartSeq: state.passStartSeq ?? undefined,
        });
        swept = sweep.deleted;
        sweptMax = sweep.maxChangeSeq;
        sweptMin = sweep.minChangeSeq;
      }
      await this.states.commitCursor(
        manager,
        state.id,
        page.cursor,
        Boolean(fullPass && page.fullPassComplete),
      );
      const counts: PageCounts = {
        fetched: page.upserts.length + page.deletions.length,
        upserted: written.inserted + written.updated,
        deleted: written.deleted + swept,
        unchanged: written.unchanged,
      };
      await this.runs.addCounts(manager, scope.runId, counts);
      return {
        counts,
        from: written.minChangeSeq ?? sweptMin,
        to: sweptMax ?? written.maxChangeSeq,
      };
    });
    if (result.from !== null && result.to !== null) {
      await this.notifier.notify('items.changed', {
        connectionId: connection.id,
        userId: connection.userId,
        provider: connection.provider,
        upserted: result.counts.upserted,
        deleted: result.counts.deleted,
        fromChangeSeq: result.from,
        toChangeSeq: result.to,
      });
    }
  }

  /** Provider failures outside a resource (listing resources) go through the same policy. */
  private async guard<T>(scope: RunScope, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      return this.escalate(scope, scope.provider.mapError(error));
    }
  }

  private async escalate(scope: RunScope, failure: ProviderError): Promise<never> {
    const decision = decide(failure);
    if (decision.action === 'delay') {
      // Every worker stops calling until then: a 429 storm gets keys blocked (Trello).
      const connectionId = failure.rateLimitScope === 'app' ? null : scope.connection.id;
      await this.budgets.block(scope.connection.provider, connectionId, decision.until);
      throw new SyncDelayedError(decision.until);
    }
    if (failure.accessTokenRejected) {
      await this.tokens.expireAccessToken(scope.connection.id).catch((error: unknown) =>
        this.logger.warn({
          connectionId: scope.connection.id,
          msg: 'could not mark a rejected access token expired',
          error: (error as Error).message,
        }),
      );
    }
    if (decision.action === 'reauth') {
      await this.tokens.markNeedsReauth(scope.connection.id, failure.detail ?? failure.code);
      throw new PermanentSyncError(failure.message, failure.code);
    }
    if (decision.action === 'fail') throw new PermanentSyncError(failure.message, failure.code);
    throw failure;
  }
}
