import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { ConnectionStore } from '../auth/connection-store.service.js';
import { awaitsSiteChoice, type Connection } from '../auth/entities/connection.entity.js';
import { withQueueTimeout } from '../core/queue/queue-timeout.js';
import type { ItemKind } from '@pdeck/integration-sdk';
import { ProviderRegistry } from '../providers/provider-registry.js';
import { schedulerId, SYNC_QUEUE } from '../sync/sync.constants.js';
import type { ConnectSession } from './connect-session.store.js';
import { describeProblem } from '../providers/errors/problem-words.js';

/** An integration the user can connect, as the page lists it. */
export interface IntegrationView {
  id: string;
  name: string;
  kinds: ItemKind[];
}

export type ConnectionState =
  'connected' | 'syncing' | 'needs_reconnect' | 'failing' | 'choose_site' | 'awaiting_confirmation';

/**
 * One connection as the page (and GET /connect/state) shows it: ids, words and times only. No
 * token, scope or setting leaves through here.
 */
export interface ConnectionView {
  id: string;
  provider: string;
  providerName: string;
  accountLabel: string;
  state: ConnectionState;
  /** The state in words, with the reason when something is wrong. */
  statusText: string;
  lastSyncedAt: string | null;
  nextSyncAt: string | null;
  /** Live items by kind (events, tasks, messages). */
  counts: Partial<Record<ItemKind, number>>;
  /** A reconnect of this connection (or a fresh grant) waits for PDeck's confirmation. */
  awaitingConfirmation: boolean;
}

export interface ConnectPageState {
  integrations: IntegrationView[];
  connections: ConnectionView[];
  /** Something is syncing or waits for PDeck: the page keeps polling while this is true. */
  changing: boolean;
}

interface RunFacts {
  id: string;
  last_synced_at: Date | null;
  syncing: boolean;
  last_status: string | null;
  last_error_code: string | null;
}

/**
 * Reads what the Connect UI shows for the session's user. Every lookup is by the session's user
 * id, and `ownConnection` is the only way an action finds its connection, so a session never
 * sees or acts on another user's connection (another user's id is simply not found: 404).
 */
@Injectable()
export class ConnectViewService {
  private readonly logger = new Logger(ConnectViewService.name);

  constructor(
    private readonly store: ConnectionStore,
    private readonly registry: ProviderRegistry,
    private readonly dataSource: DataSource,
    @InjectQueue(SYNC_QUEUE) private readonly queue: Queue,
  ) {}

  /** The integrations this session may connect: enabled ones, narrowed to `providers` if given. */
  integrations(session: ConnectSession): IntegrationView[] {
    return this.registry
      .enabled()
      .filter((p) => !session.providers || session.providers.includes(p.catalog.id))
      .map((p) => ({ id: p.catalog.id, name: p.catalog.displayName, kinds: p.catalog.itemKinds }));
  }

  /** Whether the session's user has a connection of this provider to reconnect. */
  async hasConnectionOf(session: ConnectSession, provider: string): Promise<boolean> {
    const connections = await this.store.listByUser(session.userId);
    return connections.some((c) => c.provider === provider && shown(c));
  }

  /**
   * A connection of the session's user, or 404: any status but disconnected, unless a new grant
   * of that account waits for confirmation (connecting a disconnected account again keeps its
   * row, see ConnectionStore.storePendingGrant).
   */
  async ownConnection(session: ConnectSession, id: string): Promise<Connection> {
    const connection = UUID.test(id) ? await this.store.find(id) : null;
    if (!connection || connection.userId !== session.userId || !shown(connection)) {
      throw new NotFoundException('No such connection for this user.');
    }
    return connection;
  }

  async state(session: ConnectSession): Promise<ConnectPageState> {
    const [listed, pending] = await Promise.all([
      this.store.listByUser(session.userId),
      this.store.listByUser(session.userId, 'pending'),
    ]);
    const connections = [...listed, ...pending]
      .filter(shown)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    const ids = connections.map((c) => c.id);
    const [runs, counts] = await Promise.all([this.runFacts(ids), this.counts(session.userId)]);
    const views = await Promise.all(
      connections.map((c) => this.view(c, runs.get(c.id), counts.get(c.id) ?? {})),
    );
    return {
      integrations: this.integrations(session),
      connections: views,
      changing: views.some((v) => v.state === 'syncing' || v.awaitingConfirmation),
    };
  }

  private async view(
    c: Connection,
    run: RunFacts | undefined,
    counts: Partial<Record<ItemKind, number>>,
  ): Promise<ConnectionView> {
    const providerName = this.registry.find(c.provider)?.catalog.displayName ?? c.provider;
    const awaitingConfirmation =
      (c.status === 'pending' && !awaitsSiteChoice(c)) || c.pendingGrant !== null;
    const { state, statusText } = describe(c, run);
    return {
      id: c.id,
      provider: c.provider,
      providerName,
      accountLabel: c.accountLabel ?? c.accountId,
      state,
      statusText,
      lastSyncedAt: run?.last_synced_at ? new Date(run.last_synced_at).toISOString() : null,
      nextSyncAt: c.status === 'active' ? await this.nextSync(c.id) : null,
      counts,
      awaitingConfirmation,
    };
  }

  private async runFacts(ids: string[]): Promise<Map<string, RunFacts>> {
    if (ids.length === 0) return new Map();
    const rows = (await this.dataSource.query(
      `SELECT c.id,
         (SELECT max(r.finished_at) FROM sync_runs r
           WHERE r.connection_id = c.id AND r.status IN ('succeeded', 'partial')) AS last_synced_at,
         EXISTS (SELECT 1 FROM sync_runs r
           WHERE r.connection_id = c.id AND r.status IN ('queued', 'running')) AS syncing,
         last.status AS last_status, last.error_code AS last_error_code
       FROM connections c
       LEFT JOIN LATERAL (
         SELECT r.status, r.error_code FROM sync_runs r
          WHERE r.connection_id = c.id AND r.finished_at IS NOT NULL
          ORDER BY r.finished_at DESC LIMIT 1) last ON true
       WHERE c.id = ANY($1::uuid[])`,
      [ids],
    )) as RunFacts[];
    return new Map(rows.map((r) => [r.id, r]));
  }

  private async counts(userId: string): Promise<Map<string, Partial<Record<ItemKind, number>>>> {
    const rows = (await this.dataSource.query(
      `SELECT connection_id, kind, count(*)::int AS n FROM items
        WHERE user_id = $1 AND deleted_at IS NULL GROUP BY connection_id, kind`,
      [userId],
    )) as { connection_id: string; kind: ItemKind; n: number }[];
    const byConnection = new Map<string, Partial<Record<ItemKind, number>>>();
    for (const row of rows) {
      const counts = byConnection.get(row.connection_id) ?? {};
      counts[row.kind] = row.n;
      byConnection.set(row.connection_id, counts);
    }
    return byConnection;
  }

  /** The next tick of the connection's BullMQ job scheduler; null when Redis cannot say. */
  private async nextSync(connectionId: string): Promise<string | null> {
    try {
      const scheduler = await withQueueTimeout(
        this.queue.getJobScheduler(schedulerId(connectionId)),
      );
      return scheduler?.next ? new Date(scheduler.next).toISOString() : null;
    } catch (error) {
      this.logger.warn({ connectionId, reason: String(error), msg: 'Next sync time unavailable' });
      return null;
    }
  }
}

/** Disconnected connections are left out, unless a new grant of the account waits for PDeck. */
function shown(c: Connection): boolean {
  return c.status !== 'disconnected' || c.pendingGrant !== null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function describe(
  c: Connection,
  run: RunFacts | undefined,
): { state: ConnectionState; statusText: string } {
  if (awaitsSiteChoice(c)) {
    return { state: 'choose_site', statusText: 'Almost done: choose which site to sync.' };
  }
  if (c.status === 'pending' || c.status === 'disconnected') {
    return { state: 'awaiting_confirmation', statusText: 'Waiting for PDeck to confirm.' };
  }
  if (c.status === 'needs_reauth') {
    return {
      state: 'needs_reconnect',
      statusText: `Needs reconnecting. ${describeProblem(c.lastError)}`,
    };
  }
  if (c.status === 'error') {
    return { state: 'failing', statusText: `Failing. ${describeProblem(c.lastError)}` };
  }
  if (run?.syncing) return { state: 'syncing', statusText: 'Syncing now…' };
  if (run?.last_status === 'failed') {
    return {
      state: 'failing',
      statusText: `Failing: the last sync did not finish. ${describeProblem(run.last_error_code)}`,
    };
  }
  return { state: 'connected', statusText: 'Connected.' };
}
