import { randomUUID } from 'node:crypto';
import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { CryptoService } from '../core/crypto/crypto.service.js';
import type { EncryptionContext } from '../core/crypto/keyring.js';
import type { AccountIdentity, ConnectionCredentials } from '../providers/integration-provider.js';
import { Connection, type ConnectionStatus } from './entities/connection.entity.js';

export type ConnectionSummary = Pick<Connection, 'id' | 'userId' | 'provider' | 'status'>;

export interface GrantInput {
  userId: string;
  provider: string;
  identity: AccountIdentity;
  credentials: ConnectionCredentials;
  scopes: string[];
}

/**
 * Every read and write of a connection's secrets goes through here: credentials are encrypted
 * with associated data bound to this row, and replaced only by compare-and-swap on token_version.
 */
@Injectable()
export class ConnectionStore {
  constructor(
    @InjectRepository(Connection) private readonly repo: Repository<Connection>,
    private readonly crypto: CryptoService,
  ) {}

  async get(id: string): Promise<Connection> {
    const connection = await this.repo.findOneBy({ id });
    if (!connection) throw new NotFoundException(`Connection ${id} not found`);
    return connection;
  }

  find(id: string): Promise<Connection | null> {
    return this.repo.findOneBy({ id });
  }

  /**
   * Who owns a connection and whether it is active: one indexed read without building or
   * hydrating an entity. For paths that run once per webhook delivery (a profile of
   * `npm run bench` P2 showed findOneBy's query building as most of the worker's own CPU there).
   */
  async findSummary(id: string): Promise<ConnectionSummary | null> {
    const rows = await this.repo.query<ConnectionSummary[]>(
      'SELECT id, user_id AS "userId", provider, status FROM connections WHERE id = $1',
      [id],
    );
    return rows[0] ?? null;
  }

  listByUser(userId: string): Promise<Connection[]> {
    return this.repo.find({ where: { userId }, order: { createdAt: 'ASC' } });
  }

  listActive(): Promise<Connection[]> {
    return this.repo.find({ where: { status: 'active' } });
  }

  /** Decrypted credentials; throws DecryptionError when the value was moved or tampered with. */
  credentialsOf(connection: Connection): ConnectionCredentials {
    if (!connection.credentials)
      throw new NotFoundException(`Connection ${connection.id} has no credentials`);
    return this.crypto.decryptJson<ConnectionCredentials>(
      connection.credentials,
      aad(connection.id),
    );
  }

  /**
   * Creates the connection, or re-activates the existing one for the same user, provider and
   * account (reconnect). Returns whether it was new.
   */
  async upsertFromGrant(input: GrantInput): Promise<{ connection: Connection; created: boolean }> {
    const credentials = {
      ...input.credentials,
      extras: { ...input.credentials.extras, ...input.identity.extras },
    };
    const id = randomUUID();
    const inserted = await this.repo
      .createQueryBuilder()
      .insert()
      .values({
        id,
        userId: input.userId,
        provider: input.provider,
        accountId: input.identity.accountId,
        accountLabel: input.identity.label,
        status: 'active',
        scopes: input.scopes,
        credentials: this.crypto.encryptJson(credentials, aad(id)),
        tokenExpiresAt: credentials.expiresAt ? new Date(credentials.expiresAt) : null,
      })
      .orIgnore()
      .returning(['id'])
      .execute();
    if (inserted.raw.length > 0) return { connection: await this.get(id), created: true };

    const existing = await this.repo.findOneByOrFail({
      userId: input.userId,
      provider: input.provider,
      accountId: input.identity.accountId,
    });
    await this.repo
      .createQueryBuilder()
      .update()
      .set({
        status: 'active',
        accountLabel: input.identity.label,
        scopes: input.scopes,
        credentials: this.crypto.encryptJson(credentials, aad(existing.id)),
        tokenExpiresAt: credentials.expiresAt ? new Date(credentials.expiresAt) : null,
        tokenVersion: () => 'token_version + 1',
        lastError: null,
      })
      .where('id = :id', { id: existing.id })
      .execute();
    return { connection: await this.get(existing.id), created: false };
  }

  /**
   * Replaces the credentials only if nobody else did since `expectedVersion` was read. The caller
   * re-reads on false. This is what keeps a rotated refresh token from being lost or reused.
   */
  async swapCredentials(
    id: string,
    expectedVersion: number,
    credentials: ConnectionCredentials,
  ): Promise<boolean> {
    const result = await this.repo
      .createQueryBuilder()
      .update()
      .set({
        credentials: this.crypto.encryptJson(credentials, aad(id)),
        tokenExpiresAt: credentials.expiresAt ? new Date(credentials.expiresAt) : null,
        tokenVersion: () => 'token_version + 1',
      })
      .where('id = :id AND token_version = :expectedVersion', { id, expectedVersion })
      .execute();
    return (result.affected ?? 0) === 1;
  }

  /** Re-encrypts a connection's secrets with the primary key; false when it changed meanwhile. */
  async reencrypt(connection: Connection): Promise<boolean> {
    if (!connection.credentials || !this.crypto.needsRotation(connection.credentials)) return true;
    const plaintext = this.crypto.decrypt(connection.credentials, aad(connection.id));
    const result = await this.repo
      .createQueryBuilder()
      .update()
      .set({ credentials: this.crypto.encrypt(plaintext, aad(connection.id)) })
      .where('id = :id AND credentials = :old', { id: connection.id, old: connection.credentials })
      .execute();
    return (result.affected ?? 0) === 1;
  }

  /** Merges non-secret settings (e.g. syncIntervalMinutes) and returns the updated row. */
  async updateSettings(id: string, patch: Record<string, unknown>): Promise<Connection> {
    await this.repo.query(
      'UPDATE connections SET settings = settings || $2::jsonb, updated_at = now() WHERE id = $1',
      [id, JSON.stringify(patch)],
    );
    return this.get(id);
  }

  async setStatus(
    id: string,
    status: ConnectionStatus,
    lastError: string | null = null,
  ): Promise<void> {
    await this.repo.update({ id }, { status, lastError });
  }

  /** Disconnect: the secrets are gone for good; the row stays for history and reconnects. */
  async wipe(id: string): Promise<void> {
    await this.repo.update(
      { id },
      {
        status: 'disconnected',
        credentials: null,
        tokenExpiresAt: null,
        tokenVersion: () => 'token_version + 1',
      },
    );
  }

  async delete(id: string): Promise<void> {
    await this.repo.delete({ id });
  }
}

export function aad(connectionId: string): EncryptionContext {
  return { table: 'connections', column: 'credentials', rowId: connectionId };
}
