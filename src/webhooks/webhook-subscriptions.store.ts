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
} from '../providers/webhook-contract.js';
import { WebhookSubscription } from './entities/webhook-subscription.entity.js';

const aad = (rowId: string): EncryptionContext => ({
  table: 'webhook_subscriptions',
  column: 'secret',
  rowId,
});

/**
 * Every read and write of webhook_subscriptions, and the routing lookups providers get. Secrets
 * are encrypted bound to their row, so a value copied to another row does not decrypt.
 */
@Injectable()
export class WebhookSubscriptionsStore {
  constructor(
    @InjectRepository(WebhookSubscription) private readonly repo: Repository<WebhookSubscription>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly crypto: CryptoService,
  ) {}

  async create(
    input: { connectionId: string; provider: string; resourceId: string; callbackUrl: string },
    created: NewSubscription,
  ): Promise<StoredWebhookSubscription> {
    const id = randomUUID();
    const row = await this.repo.save(
      this.repo.create({ id, ...input, ...this.columnsOf(id, created), status: 'active' }),
    );
    return this.view(row);
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

  /** Active connections of the provider with no subscription at all (their subscribe was lost). */
  async unsubscribedConnections(provider: string): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT c.id FROM connections c
       WHERE c.provider = $1 AND c.status = 'active'
         AND NOT EXISTS (SELECT 1 FROM webhook_subscriptions s WHERE s.connection_id = c.id)`,
      [provider],
    );
    return rows.map((r) => r.id);
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
      const rows: { id: string; account_id: string }[] = await this.dataSource.query(
        `SELECT id, account_id FROM connections
          WHERE provider = $1 AND account_id = $2 AND status = 'active'`,
        [provider, query.accountId],
      );
      return rows.map((r) => ({ connectionId: r.id, accountId: r.account_id }));
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
