import { randomUUID } from 'node:crypto';
import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Not, Repository } from 'typeorm';
import { CryptoService } from '../core/crypto/crypto.service.js';
import type { EncryptionContext } from '../core/crypto/keyring.js';
import { asEntities, entitySelect } from '../core/database/entity-select.js';
import type { AccountIdentity, ConnectionCredentials } from '@pdeck/integration-sdk';
import { Connection, type ConnectionStatus } from './entities/connection.entity.js';

/** A grant between the callback and PDeck's confirmation. Encrypted at rest like credentials. */
export interface PendingGrant {
  credentials: ConnectionCredentials;
  scopes: string[];
  accountLabel: string;
  /** The site the grant is bound to (one-site grants of providers with sites). */
  siteId?: string;
  /** The grant reaches several sites: once confirmed, the connection waits for a choice. */
  siteRequired?: boolean;
  /** The identity's non-secret facts, merged into the connection's settings on activation. */
  settings?: Record<string, string>;
}

/** A grant as it waits for confirmation: the identity's extras join the credentials. */
export function toPendingGrant(
  credentials: ConnectionCredentials,
  scopes: string[],
  identity: AccountIdentity,
): PendingGrant {
  return {
    credentials: withExtras(credentials, identity.extras),
    scopes,
    accountLabel: identity.label,
    ...(identity.siteId ? { siteId: identity.siteId } : {}),
    ...(identity.siteRequired ? { siteRequired: true } : {}),
    ...(identity.settings ? { settings: identity.settings } : {}),
  };
}

/** The earliest expiry of the connection's tokens (Slack: the bot's or the user's), if any. */
function earliestExpiry(credentials: ConnectionCredentials): Date | null {
  const times = [credentials, ...Object.values(credentials.linked ?? {})]
    .map((t) => (t.expiresAt ? Date.parse(t.expiresAt) : NaN))
    .filter((t) => !Number.isNaN(t));
  return times.length ? new Date(Math.min(...times)) : null;
}

function withExtras(
  credentials: ConnectionCredentials,
  extras: Record<string, string> | undefined,
): ConnectionCredentials {
  return { ...credentials, extras: { ...credentials.extras, ...extras } };
}

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
  private selectAll?: string;

  constructor(
    @InjectRepository(Connection) private readonly repo: Repository<Connection>,
    private readonly crypto: CryptoService,
  ) {}

  async get(id: string): Promise<Connection> {
    const connection = await this.find(id);
    if (!connection) throw new NotFoundException(`Connection ${id} not found`);
    return connection;
  }

  /** Read for every sync and every sync request: see entitySelect. */
  async find(id: string): Promise<Connection | null> {
    this.selectAll ??= entitySelect(this.repo);
    const rows = await this.repo.query<object[]>(`${this.selectAll} WHERE id = $1`, [id]);
    return asEntities(this.repo, rows)[0] ?? null;
  }

  /**
   * Who owns a connection and whether it is active: one indexed read without building or
   * hydrating an entity. For paths that run once per webhook delivery (a profile of
   * `npm run bench` P2 showed findOneBy's query building as most of the worker's own CPU there),
   * for several connections in one statement; absent ids are not in the map.
   */
  async findSummaries(ids: readonly string[]): Promise<Map<string, ConnectionSummary>> {
    if (ids.length === 0) return new Map();
    const rows = await this.repo.query<ConnectionSummary[]>(
      'SELECT id, user_id AS "userId", provider, status FROM connections WHERE id = ANY($1::uuid[])',
      [[...ids]],
    );
    return new Map(rows.map((r) => [r.id, r]));
  }

  /** A user's connections; `pending` ones (not confirmed yet) only when asked for by status. */
  listByUser(userId: string, status?: ConnectionStatus): Promise<Connection[]> {
    const where = status
      ? { userId, status }
      : { userId, status: Not<ConnectionStatus>('pending') };
    return this.repo.find({ where, order: { createdAt: 'ASC' } });
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
   * Keeps a fresh grant until PDeck confirms it. A new account gets a `pending` row; an account
   * the user already has (a reconnect) keeps its row, status and credentials untouched, and the
   * grant waits beside them. A second grant before confirmation replaces the first.
   */
  async storePendingGrant(
    input: GrantInput,
    confirm: { tokenHash: string; expiresAt: Date },
  ): Promise<{ connection: Connection; reconnect: boolean }> {
    const grant = toPendingGrant(input.credentials, input.scopes, input.identity);
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
        status: 'pending',
        scopes: input.scopes,
        pendingGrant: this.crypto.encryptJson(grant, pendingAad(id)),
        confirmTokenHash: confirm.tokenHash,
        confirmExpiresAt: confirm.expiresAt,
      })
      .orIgnore()
      .returning(['id'])
      .execute();
    if (inserted.raw.length > 0) return { connection: await this.get(id), reconnect: false };

    const existing = await this.repo.findOneByOrFail({
      userId: input.userId,
      provider: input.provider,
      accountId: input.identity.accountId,
    });
    await this.repo.update(
      { id: existing.id },
      {
        pendingGrant: this.crypto.encryptJson(grant, pendingAad(existing.id)),
        confirmTokenHash: confirm.tokenHash,
        confirmExpiresAt: confirm.expiresAt,
      },
    );
    const connection = await this.get(existing.id);
    return { connection, reconnect: connection.status !== 'pending' };
  }

  /** The decrypted pending grant of a connection, or null when none waits. */
  pendingGrantOf(connection: Connection): PendingGrant | null {
    if (!connection.pendingGrant) return null;
    return this.crypto.decryptJson<PendingGrant>(
      connection.pendingGrant,
      pendingAad(connection.id),
    );
  }

  /**
   * Turns the pending grant into the connection's credentials and activates it, once: the update
   * matches only while the same token hash is still stored, so two racing confirmations cannot
   * both succeed. False when it was claimed (or discarded) meanwhile. A grant that still needs a
   * site choice is stored but stays `pending` with reason `site_required`.
   */
  async activatePendingGrant(connection: Connection, grant: PendingGrant): Promise<boolean> {
    const { credentials } = grant;
    const waiting = grant.siteRequired === true;
    const result = await this.repo
      .createQueryBuilder()
      .update()
      .set({
        status: waiting ? 'pending' : 'active',
        pendingReason: waiting ? 'site_required' : null,
        siteId: waiting ? null : (grant.siteId ?? null),
        accountLabel: grant.accountLabel,
        scopes: grant.scopes,
        // Merged in SQL like a settings patch: the user's own settings stay.
        ...(grant.settings ? { settings: () => 'settings || CAST(:grantSettings AS jsonb)' } : {}),
        credentials: this.crypto.encryptJson(credentials, aad(connection.id)),
        tokenExpiresAt: earliestExpiry(credentials),
        tokenVersion: () => 'token_version + 1',
        lastError: null,
        pendingGrant: null,
        confirmTokenHash: null,
        confirmExpiresAt: null,
      })
      .where('id = :id AND confirm_token_hash = :hash', {
        id: connection.id,
        hash: connection.confirmTokenHash,
      })
      .setParameter('grantSettings', JSON.stringify(grant.settings ?? {}))
      .execute();
    return (result.affected ?? 0) === 1;
  }

  /**
   * Forgets a pending grant: a `pending` row goes entirely; a reconnect's row keeps what it had.
   * Matches the token hash that was read, so a grant replaced meanwhile is not thrown away.
   */
  async discardPendingGrant(connection: Connection): Promise<boolean> {
    const match = { id: connection.id, confirmTokenHash: connection.confirmTokenHash ?? '' };
    const result =
      connection.status === 'pending'
        ? await this.repo.delete({ ...match, status: 'pending' })
        : await this.repo.update(match, {
            pendingGrant: null,
            confirmTokenHash: null,
            confirmExpiresAt: null,
          });
    return (result.affected ?? 0) === 1;
  }

  /** Whether another connection (any user) holds live credentials of the same provider account. */
  async accountInUse(connection: Connection): Promise<boolean> {
    const rows = await this.repo.query<unknown[]>(
      `SELECT 1 FROM connections WHERE provider = $1 AND account_id = $2 AND credentials IS NOT NULL
         AND status IN ('active', 'needs_reauth', 'error') LIMIT 1`,
      [connection.provider, connection.accountId],
    );
    return rows.length > 0;
  }

  /** Connections whose pending grant outlived its confirmation window, oldest first. */
  listExpiredPending(now: Date, limit: number): Promise<Connection[]> {
    return this.repo.find({
      where: { confirmExpiresAt: LessThan(now) },
      order: { confirmExpiresAt: 'ASC' },
      take: limit,
    });
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
        tokenExpiresAt: earliestExpiry(credentials),
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

  /**
   * Completes a `site_required` connection: the site's extras join the credentials, the label and
   * site id are set and it becomes active. Compare-and-swap on the token version and the pending
   * reason, so a concurrent refresh or a second choice cannot be overwritten; false when lost.
   */
  async chooseSite(
    connection: Connection,
    credentials: ConnectionCredentials,
    identity: AccountIdentity,
  ): Promise<boolean> {
    const merged = withExtras(credentials, identity.extras);
    const result = await this.repo
      .createQueryBuilder()
      .update()
      .set({
        status: 'active',
        pendingReason: null,
        siteId: identity.siteId ?? null,
        accountLabel: identity.label,
        credentials: this.crypto.encryptJson(merged, aad(connection.id)),
        tokenVersion: () => 'token_version + 1',
      })
      .where(
        "id = :id AND token_version = :version AND status = 'pending' AND pending_reason = 'site_required'",
        { id: connection.id, version: connection.tokenVersion },
      )
      .execute();
    return (result.affected ?? 0) === 1;
  }

  /** Merges non-secret settings (e.g. syncIntervalMinutes) and returns the updated row. */
  /** Active connections of the same provider account, `exceptId` left out. */
  countActiveOfAccount(connection: Connection, exceptId?: string): Promise<number> {
    return this.repo.count({
      where: {
        provider: connection.provider,
        accountId: connection.accountId,
        status: 'active',
        ...(exceptId ? { id: Not(exceptId) } : {}),
      },
    });
  }

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

function pendingAad(connectionId: string): EncryptionContext {
  return { table: 'connections', column: 'pending_grant', rowId: connectionId };
}
