import { Injectable, Logger } from '@nestjs/common';
import { ConnectionStore } from '../auth/connection-store.service.js';
import type { Connection } from '../auth/entities/connection.entity.js';
import { TokenService } from '../auth/token.service.js';
import {
  isProviderError,
  type ProviderError,
  type IntegrationProvider,
  type ProviderContext,
  type SyncResource,
} from '@pdeck/integration-sdk';
import { ItemsRepository } from '../items/items.repository.js';
import { ProviderContextFactory } from '../providers/provider-context.factory.js';
import { ProviderRegistry } from '../providers/provider-registry.js';
import {
  type BlockTarget,
  RATE_BUDGET_DETAIL,
  RateBudgetService,
} from '../providers/rate-budget/rate-budget.service.js';
import type { SyncRunResource } from './entities/sync-run.entity.js';
import type { SyncState } from './entities/sync-state.entity.js';
import { ResourceRetirer } from './resource-retirer.service.js';
import { SyncPageCommitter } from './sync-page-committer.service.js';
import { decide, describeFailure, PermanentSyncError } from './sync-error-policy.js';
import { SyncRunsService } from './sync-runs.service.js';
import { SyncStateService } from './sync-state.service.js';
import type { SyncJobData } from './sync.constants.js';

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
  /**
   * The connection's resource states as read when the run listed its resources. Only sync runs
   * write these rows and a connection runs one sync at a time, so the read stays current.
   */
  states: Map<string, SyncState>;
}

/**
 * Runs one sync of one connection: lists its resources, then streams each resource's pages from
 * the provider into SyncPageCommitter (a page's items and cursor commit together). Provider
 * failures arrive as ProviderErrors and go through the one policy (decide); anything else (a
 * database error, a bug) is not the provider's and propagates unchanged for the job to retry.
 */
@Injectable()
export class SyncRunnerService {
  private readonly logger = new Logger(SyncRunnerService.name);

  constructor(
    private readonly connections: ConnectionStore,
    private readonly tokens: TokenService,
    private readonly registry: ProviderRegistry,
    private readonly contexts: ProviderContextFactory,
    private readonly states: SyncStateService,
    private readonly runs: SyncRunsService,
    private readonly pages: SyncPageCommitter,
    private readonly retirer: ResourceRetirer,
    private readonly budgets: RateBudgetService,
    private readonly items: ItemsRepository,
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
      credentials: this.tokens.credentialsSource(connection),
      signal,
      knownVersions: (kind, ids) => this.items.knownVersions(connection.id, kind, ids),
    });
    const scope: RunScope = { connection, provider, ctx, runId: data.syncRunId, states: new Map() };
    await this.runs.markRunning(data.syncRunId, connection.id, data.mode, data.trigger);
    const runLog = { connectionId: connection.id, syncRunId: data.syncRunId, mode: data.mode };
    this.logger.log({ ...runLog, trigger: data.trigger }, 'Sync run started');

    const wanted = await this.resourcesToSync(scope, data.resourceIds);
    for (const [index, resource] of wanted.entries()) {
      signal?.throwIfAborted();
      try {
        await this.syncResource(scope, resource, data.mode);
      } catch (error) {
        if (error instanceof SyncDelayedError) {
          error.remainingResourceIds = wanted.slice(index).map((r) => r.id);
        }
        throw error;
      }
    }
    // From every resource the run recorded, those before a rate-limit pause included.
    const { outcome, upserted, deleted } = await this.runs.finishFromResources(data.syncRunId);
    // Most runs of a deployment find nothing new: their end is a debug line (sync_runs_total
    // counts them); a run that changed items or missed some is worth a line at info.
    const changed = outcome !== 'succeeded' || upserted + deleted > 0;
    const line = { ...runLog, outcome, upserted, deleted };
    if (changed) this.logger.log(line, 'Sync run finished');
    else this.logger.debug(line, 'Sync run finished');
    return { outcome, provider: connection.provider };
  }

  /**
   * Webhook-triggered runs name their resources: use the known ones without listing again (Trello
   * allows only 100 /members calls per 15 min per token). Otherwise list, and remember new ones.
   */
  private async resourcesToSync(scope: RunScope, resourceIds?: string[]): Promise<SyncResource[]> {
    const connectionId = scope.connection.id;
    let states = await this.readStates(scope);
    if (resourceIds?.length) {
      const known = resourceIds.map((id) => scope.states.get(id));
      if (known.every((s): s is SyncState => s !== undefined)) {
        return known.map((s) => ({ id: s.resourceId, name: s.resourceName ?? s.resourceId }));
      }
    }
    let resources: SyncResource[];
    try {
      resources = await scope.provider.listResources(scope.ctx);
    } catch (error) {
      return this.escalate(scope, providerFailure(error));
    }
    // Most runs list what they listed last time: then nothing is written here.
    const changed = resources.some((r) => scope.states.get(r.id)?.resourceName !== r.name);
    if (changed) {
      await this.states.ensureResources(connectionId, resources);
      states = await this.readStates(scope);
    }
    await this.retirer.retireUnlisted(scope.connection, resources, states);
    return resourceIds ? resources.filter((r) => resourceIds.includes(r.id)) : resources;
  }

  private async readStates(scope: RunScope): Promise<SyncState[]> {
    const states = await this.states.list(scope.connection.id);
    scope.states = new Map(states.map((s) => [s.resourceId, s]));
    return states;
  }

  /** Syncs one resource and records how it fared in the run; throws what fails the run. */
  private async syncResource(
    scope: RunScope,
    resource: SyncResource,
    mode: SyncJobData['mode'],
  ): Promise<void> {
    let state = scope.states.get(resource.id)!;
    // A full pass already in progress is resumed from its committed page cursor. A provider
    // whose incremental feed misses deletions asks for a periodic full pass (its sweep).
    const due = state.cursor !== null && scope.provider.fullPassDue?.(state.cursor, new Date());
    if (state.stage === 'incremental' && (mode === 'full' || state.cursor === null || due)) {
      state = await this.states.startFullPass(state);
    }
    let resetAllowed = true;
    for (;;) {
      try {
        await this.streamPages(scope, resource, state);
        break;
      } catch (error) {
        const failure = providerFailure(error);
        const decision = decide(failure);
        if (decision.action === 'reset-cursor' && resetAllowed) {
          resetAllowed = false;
          this.logger.warn(
            { connectionId: scope.connection.id, resourceId: resource.id },
            'Cursor invalid: full resync of the resource',
          );
          state = await this.states.startFullPass(state);
          continue;
        }
        if (decision.action === 'skip-resource') {
          await this.states.markFailed(state.id, decision.status, failure.message);
          await this.record(scope, resource, 'skipped', failure);
          return;
        }
        if (decision.action !== 'delay') {
          await this.states.markFailed(state.id, 'error', failure.message);
          await this.record(scope, resource, 'failed', failure);
        }
        return this.escalate(scope, failure);
      }
    }
    await this.runs.recordSucceeded(scope.runId, state.id, {
      resourceId: resource.id,
      resourceName: resource.name,
      outcome: 'succeeded',
    });
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
    const target = { connection: scope.connection, runId: scope.runId, resource, state, fullPass };
    for await (const page of pages) {
      // Past the job's deadline no further page is committed (the retry resumes from here).
      scope.ctx.signal?.throwIfAborted();
      await this.pages.commit(target, page);
    }
  }

  private record(
    scope: RunScope,
    resource: SyncResource,
    outcome: SyncRunResource['outcome'],
    failure?: ProviderError,
  ): Promise<void> {
    const entry: SyncRunResource = {
      resourceId: resource.id,
      resourceName: resource.name,
      outcome,
    };
    if (failure) {
      entry.errorCode = failure.code;
      entry.errorMessage = `${outcome === 'skipped' ? 'skipped' : 'failed'}: ${describeFailure(failure)} (${failure.message})`;
      entry.operation = failure.operation;
    }
    return this.runs.recordResource(scope.runId, entry);
  }

  private async escalate(scope: RunScope, failure: ProviderError): Promise<never> {
    const decision = decide(failure);
    if (decision.action === 'delay') {
      // Every worker stops calling until then: a 429 storm gets keys blocked (Trello). Our own
      // budget's refusal needs no block: the budget refuses every worker until then anyway, and
      // a block would stop more (the whole connection) than the budget that ran out (one method).
      if (failure.detail !== RATE_BUDGET_DETAIL)
        await this.budgets.block(
          scope.connection.provider,
          blockTarget(scope, failure),
          decision.until,
        );
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
    // Outside a resource (the listing), a permanent failure is the run's: retrying cannot help.
    if (failure.permanent) throw new PermanentSyncError(failure.message, failure.code);
    throw failure;
  }
}

/** Whom a provider's 429 stops: the app, one method of the account (Slack), or the connection. */
function blockTarget(scope: RunScope, failure: ProviderError): BlockTarget {
  const { connection } = scope;
  if (failure.rateLimitScope === 'app') return { kind: 'app' };
  if (failure.rateLimitScope === 'method' && failure.operation && connection.accountId) {
    return { kind: 'method', accountId: connection.accountId, operation: failure.operation };
  }
  return { kind: 'connection', connectionId: connection.id };
}

/**
 * Providers map their failures at their own boundary, so a ProviderError is used as it is.
 * Anything else is not a provider verdict (a database error during a page commit, a bug, a
 * cancellation) and propagates unchanged, for the job's retry to handle.
 */
function providerFailure(error: unknown): ProviderError {
  if (isProviderError(error)) return error;
  throw error;
}
