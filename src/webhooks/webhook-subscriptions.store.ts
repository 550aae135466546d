import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, LessThanOrEqual, Repository } from 'typeorm';
import { CryptoService } from '../core/crypto/crypto.service.js';
import type { EncryptionContext } from '../core/crypto/keyring.js';
import type {
  ConnectionQuery,
  NewSubscription,
  RoutedConnection,
  StoredWebhookSubscription,
} from '@pdeck/integration-sdk';
import type { SubscribeAttemptStatus } from './entities/webhook-subscribe-attempt.entity.js';
import { WebhookSubscription } from './entities/webhook-subscription.entity.js';

/** What the lifecycle knows of a resource that has no subscription yet. */
export interface SubscribeAttempt {
  resourceId: string;
  status: SubscribeAttemptStatus;
  failures: number;
  startedAt: Date;
  nextAttemptAt: Date | null;
}

export interface SubscriptionTarget {
  connectionId: string;
  provider: string;
  resourceId: string;
  callbackUrl: string;
}

const aad = (rowId: string): EncryptionContext => ({
  table: 'webhook_subscriptions',
  column: 'secret',
  rowId,
});

/**
 * Every read and write of webhook_subscriptions, and the routing lookups providers get. Secrets
 * are encrypted bound to their row, so a value copied to another row does not decrypt.
 */
interface AccountRow {
  id: string;
  account_id: string;
  settings: Record<string, unknown> | null;
  resource_name?: string | null;
}

@Injectable()
export class WebhookSubscriptionsStore {
  constructor(
    @InjectRepository(WebhookSubscription) private readonly repo: Repository<WebhookSubscription>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly crypto: CryptoService,
  ) {}

  /** Stores a subscription the provider created, and ends the attempt that created it. */
  async create(
    input: SubscriptionTarget,
    created: NewSubscription,
  ): Promise<StoredWebhookSubscription> {
    const id = randomUUID();
    const row = await this.dataSource.transaction(async (manager) => {
      const repo = manager.getRepository(WebhookSubscription);
      const saved = await repo.save(
        repo.create({ id, ...input, ...this.columnsOf(id, created), status: 'active' }),
      );
      await manager.query(
        'DELETE FROM webhook_subscribe_attempts WHERE connection_id = $1 AND resource_id = $2',
        [input.connectionId, input.resourceId],
      );
      return saved;
    });
    return this.view(row);
  }

  /**
   * Marks a subscribe call as under way (before the provider is called), keeping the failure
   * count of earlier attempts: deliveries that arrive before the provider answers are ours.
   */
  async beginAttempt(target: SubscriptionTarget, now: Date): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO webhook_subscribe_attempts
         (connection_id, resource_id, provider, callback_url, status, started_at)
       VALUES ($1, $2, $3, $4, 'pending', $5)
       ON CONFLICT (connection_id, resource_id) DO UPDATE SET provider = EXCLUDED.provider,
         callback_url = EXCLUDED.callback_url, status = 'pending',
         started_at = EXCLUDED.started_at, updated_at = now()`,
      [target.connectionId, target.resourceId, target.provider, target.callbackUrl, now],
    );
  }

  /** Records a failed attempt: one more failure, why, and when to try again. */
  async failAttempt(
    target: SubscriptionTarget,
    error: string,
    now: Date,
    backoff: (failures: number) => number,
  ): Promise<{ failures: number; nextAttemptAt: Date }> {
    return this.dataSource.transaction(async (manager) => {
      const [row]: { failures: number }[] = await manager.query(
        `INSERT INTO webhook_subscribe_attempts
           (connection_id, resource_id, provider, callback_url, status, failures, last_error,
            started_at)
         VALUES ($1, $2, $3, $4, 'failed', 1, $5, $6)
         ON CONFLICT (connection_id, resource_id) DO UPDATE SET status = 'failed',
           failures = webhook_subscribe_attempts.failures + 1, last_error = EXCLUDED.last_error,
           updated_at = now()
         RETURNING failures`,
        [target.connectionId, target.resourceId, target.provider, target.callbackUrl, error, now],
      );
      const nextAttemptAt = new Date(now.getTime() + backoff(row.failures));
      await manager.query(
        `UPDATE webhook_subscribe_attempts SET next_attempt_at = $3
          WHERE connection_id = $1 AND resource_id = $2`,
        [target.connectionId, target.resourceId, nextAttemptAt],
      );
      return { failures: row.failures, nextAttemptAt };
    });
  }

  /**
   * A call ended by a failure of the whole connection (rate limit, grant): the attempt goes back
   * to what it was, so the job's retry tries the resource again.
   */
  async abandonAttempt(target: SubscriptionTarget): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM webhook_subscribe_attempts
        WHERE connection_id = $1 AND resource_id = $2 AND status = 'pending' AND failures = 0`,
      [target.connectionId, target.resourceId],
    );
    await this.dataSource.query(
      `UPDATE webhook_subscribe_attempts SET status = 'failed', updated_at = now()
        WHERE connection_id = $1 AND resource_id = $2 AND status = 'pending'`,
      [target.connectionId, target.resourceId],
    );
  }

  /** The provider offers no subscription for this resource: not retried until reconnect. */
  async markUnsupported(target: SubscriptionTarget, reason: string, now: Date): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO webhook_subscribe_attempts
         (connection_id, resource_id, provider, callback_url, status, last_error, started_at)
       VALUES ($1, $2, $3, $4, 'unsupported', $5, $6)
       ON CONFLICT (connection_id, resource_id) DO UPDATE SET status = 'unsupported',
         last_error = EXCLUDED.last_error, next_attempt_at = NULL, updated_at = now()`,
      [target.connectionId, target.resourceId, target.provider, target.callbackUrl, reason, now],
    );
  }

  /** Drops an attempt record (the listing worked again, or a reconnect starts afresh). */
  async clearAttempt(connectionId: string, resourceId: string): Promise<void> {
    await this.dataSource.query(
      'DELETE FROM webhook_subscribe_attempts WHERE connection_id = $1 AND resource_id = $2',
      [connectionId, resourceId],
    );
  }

  /**
   * Forgets past failures of a connection so its next subscribe tries everything (reconnect).
   * Calls under way keep their row: a delivery for them is still ours.
   */
  async clearFinishedAttempts(connectionId: string): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM webhook_subscribe_attempts WHERE connection_id = $1 AND status <> 'pending'`,
      [connectionId],
    );
  }

  /** The connection ended: nothing of it is subscribing any more. */
  async clearAttempts(connectionId: string): Promise<void> {
    await this.dataSource.query('DELETE FROM webhook_subscribe_attempts WHERE connection_id = $1', [
      connectionId,
    ]);
  }

  async attemptsOf(connectionId: string): Promise<SubscribeAttempt[]> {
    const rows: {
      resource_id: string;
      status: SubscribeAttemptStatus;
      failures: number;
      started_at: Date;
      next_attempt_at: Date | null;
    }[] = await this.dataSource.query(
      `SELECT resource_id, status, failures, started_at, next_attempt_at
         FROM webhook_subscribe_attempts WHERE connection_id = $1`,
      [connectionId],
    );
    return rows.map((r) => ({
      resourceId: r.resource_id,
      status: r.status,
      failures: r.failures,
      startedAt: r.started_at,
      nextAttemptAt: r.next_attempt_at,
    }));
  }

  /** Replaces what the provider returned on renewal (new channel id, token, expiry). */
  async replace(id: string, renewed: NewSubscription): Promise<void> {
    await this.repo.update({ id }, this.columnsOf(id, renewed));
  }

  async get(id: string): Promise<StoredWebhookSubscription | null> {
    const row = await this.repo.findOneBy({ id });
    return row ? this.view(row) : null;
  }

  async findByExternalId(
    provider: string,
    externalId: string,
  ): Promise<StoredWebhookSubscription | null> {
    const row = await this.repo.findOneBy({ provider, externalId, status: 'active' });
    return row ? this.view(row) : null;
  }

  /**
   * Active connections of the provider that need a subscribe job: those with no subscription and
   * no attempt at all (their subscribe was lost), and those with an attempt that is due (a failure
   * whose backoff ended, or a call under way since before `staleBefore`: its worker died).
   */
  async connectionsToSubscribe(provider: string, now: Date, staleBefore: Date): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT c.id FROM connections c
       WHERE c.provider = $1 AND c.status = 'active'
         AND ((NOT EXISTS (SELECT 1 FROM webhook_subscriptions s WHERE s.connection_id = c.id)
               AND NOT EXISTS (SELECT 1 FROM webhook_subscribe_attempts a
                                WHERE a.connection_id = c.id))
           OR EXISTS (SELECT 1 FROM webhook_subscribe_attempts a
                       WHERE a.connection_id = c.id
                         AND ((a.status = 'failed' AND a.next_attempt_at <= $2)
                           OR (a.status = 'pending' AND a.started_at <= $3))))`,
      [provider, now, staleBefore],
    );
    return rows.map((r) => r.id);
  }

  /** See WebhookVerifyContext.callbackUrlsFor. */
  async callbackUrlsFor(provider: string, resourceId: string): Promise<string[]> {
    const rows: { callback_url: string }[] = await this.dataSource.query(
      `SELECT callback_url FROM webhook_subscriptions
        WHERE provider = $1 AND resource_id = $2 AND status = 'active'
       UNION
       SELECT callback_url FROM webhook_subscribe_attempts
        WHERE provider = $1 AND resource_id = $2 AND status = 'pending'`,
      [provider, resourceId],
    );
    return rows.map((r) => r.callback_url);
  }

  async listForConnection(connectionId: string): Promise<StoredWebhookSubscription[]> {
    const rows = await this.repo.findBy({ connectionId });
    return rows.map((row) => this.view(row));
  }

  /** Active subscriptions of a provider expiring at or before `before`. */
  async expiringBefore(provider: string, before: Date): Promise<string[]> {
    const rows = await this.repo.find({
      select: { id: true },
      where: { provider, status: 'active', expiresAt: LessThanOrEqual(before) },
    });
    return rows.map((r) => r.id);
  }

  async delete(id: string): Promise<void> {
    await this.repo.delete({ id });
  }

  /** Active connections of `provider` a delivery belongs to (see ConnectionQuery). */
  async findConnections(provider: string, query: ConnectionQuery): Promise<RoutedConnection[]> {
    if ('accountId' in query) {
      const byResource = query.resourceId !== undefined;
      // With a resource: only connections whose syncs include it (they listed it last time).
      const rows: AccountRow[] = await this.dataSource.query(
        byResource
          ? `SELECT c.id, c.account_id, c.settings, s.resource_name FROM connections c
               JOIN sync_states s ON s.connection_id = c.id AND s.resource_id = $3
              WHERE c.provider = $1 AND c.account_id = $2 AND c.status = 'active'`
          : `SELECT c.id, c.account_id, c.settings FROM connections c
              WHERE c.provider = $1 AND c.account_id = $2 AND c.status = 'active'`,
        byResource ? [provider, query.accountId, query.resourceId] : [provider, query.accountId],
      );
      return rows.map((r) => ({
        connectionId: r.id,
        accountId: r.account_id,
        settings: r.settings ?? {},
        ...(byResource ? { resourceId: query.resourceId, resourceName: r.resource_name } : {}),
      }));
    }
    const [column, value] =
      'subscriptionExternalId' in query
        ? ['external_id', query.subscriptionExternalId]
        : ['resource_id', query.resourceId];
    const rows: { id: string; account_id: string; resource_id: string }[] =
      await this.dataSource.query(
        `SELECT DISTINCT c.id, c.account_id, s.resource_id
           FROM webhook_subscriptions s JOIN connections c ON c.id = s.connection_id
          WHERE s.provider = $1 AND s.${column} = $2 AND s.status = 'active'
            AND c.status = 'active'`,
        [provider, value],
      );
    return rows.map((r) => ({
      connectionId: r.id,
      accountId: r.account_id,
      resourceId: r.resource_id,
    }));
  }

  private columnsOf(id: string, sub: NewSubscription): Partial<WebhookSubscription> {
    return {
      externalId: sub.externalId,
      externalResourceId: sub.externalResourceId ?? null,
      secret: sub.secret === undefined ? null : this.crypto.encrypt(sub.secret, aad(id)),
      expiresAt: sub.expiresAt ?? null,
    };
  }

  private view(row: WebhookSubscription): StoredWebhookSubscription {
    return {
      id: row.id,
      connectionId: row.connectionId,
      resourceId: row.resourceId,
      externalId: row.externalId,
      externalResourceId: row.externalResourceId,
      secret: row.secret === null ? null : this.crypto.decrypt(row.secret, aad(row.id)),
      callbackUrl: row.callbackUrl,
      expiresAt: row.expiresAt,
    };
  }
}
