import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { ProviderHttpClient } from '../providers/http/provider-http-client.js';
import type { ConnectionCredentials } from '@pdeck/integration-sdk';
import { ProviderContextFactory } from '../providers/provider-context.factory.js';
import { ProviderRegistry } from '../providers/provider-registry.js';
import { CONNECTION_EVENTS, type ConnectionEvent } from './connection-events.js';
import { ConnectionStore } from './connection-store.service.js';
import type { Connection } from './entities/connection.entity.js';
import { type Lease, RefreshLeases } from './refresh-lease.js';
import { revocationRequest } from './token-endpoint.js';
import { REFRESH_LEASE_TTL_MS } from './token.service.js';

export interface DisconnectOptions {
  /** Also delete the connection's items (carried in connection.deleted for the Items module). */
  purgeItems?: boolean;
}

/** How long a disconnect waits for a running refresh to finish before going ahead anyway. */
const LEASE_WAIT_MS = 15_000;

/**
 * Ends a connection: tells the other modules, revokes the grant at the provider where possible,
 * then wipes the secrets. The row stays (status disconnected) so history keeps its owner and a
 * later reconnect of the same account re-activates it, once PDeck confirms it (ConfirmService).
 */
@Injectable()
export class DisconnectService {
  private readonly logger = new Logger('DisconnectService');

  constructor(
    private readonly store: ConnectionStore,
    private readonly registry: ProviderRegistry,
    private readonly contexts: ProviderContextFactory,
    private readonly http: ProviderHttpClient,
    private readonly leases: RefreshLeases,
    private readonly events: EventEmitter2,
  ) {}

  /** Idempotent: an already disconnected connection is returned as is. 404 for an unknown id. */
  async disconnect(connectionId: string, options: DisconnectOptions = {}): Promise<Connection> {
    const before = await this.store.get(connectionId);
    if (before.status === 'disconnected') return before;
    // First, while the credentials still work: Webhooks unsubscribes at the provider (it needs
    // a valid token for that) and Sync removes the schedules. Purging items is the Items
    // module's job: it reads `purgeItems` from this event.
    await this.emitDeleted(before, options.purgeItems ?? false);
    // Holding the refresh lease means no refresh mints a token we would then fail to revoke.
    const lease = await this.waitForLease(connectionId);
    try {
      const current = await this.store.get(connectionId);
      const revokeError = await this.revoke(current);
      await this.store.wipe(connectionId);
      // Recorded, not thrown: a provider outage must not keep a user from disconnecting.
      await this.store.setStatus(connectionId, 'disconnected', revokeError);
    } finally {
      await lease?.release();
    }
    return this.store.get(connectionId);
  }

  /** Revokes at the provider; returns a short error description instead of throwing. */
  private async revoke(connection: Connection): Promise<string | null> {
    const log = { connectionId: connection.id, provider: connection.provider };
    try {
      if (!connection.credentials) return null;
      const credentials = this.store.credentialsOf(connection);
      const revoked = await this.revokeGrant(connection, credentials);
      if (revoked) this.logger.log({ msg: 'grant revoked at the provider', ...log });
      return null;
    } catch (error) {
      const reason = describe(error);
      this.logger.warn({ msg: 'revocation failed; disconnecting anyway', ...log, reason });
      return `revoke_failed: ${reason}`;
    }
  }

  /**
   * Revokes these credentials at the provider; false when it offers no way to revoke.
   * `replacing`: they are a new grant beside the row's own credentials (a refused reconnect), so
   * the row, while active, still uses the account's shared tokens; on a disconnect it does not.
   */
  async revokeGrant(
    connection: Connection,
    credentials: ConnectionCredentials,
    replacing = false,
  ): Promise<boolean> {
    const provider = this.registry.get(connection.provider);
    if (provider.revoke) {
      // Providers whose revocation is not RFC 7009 (Slack auth.revoke, Trello DELETE /tokens).
      const ctx = this.contexts.create({
        provider: connection.provider,
        connectionId: connection.id,
        accountId: connection.accountId,
        settings: connection.settings,
        credentials: async () => credentials,
      });
      const others = await this.store.countActiveOfAccount(
        connection,
        replacing ? undefined : connection.id,
      );
      await provider.revoke(ctx, { accountInUse: others > 0 });
      return true;
    }
    const auth = provider.catalog.auth;
    if (auth.scheme !== 'oauth2' || !auth.revokeUrl) return false;
    // Revoking the refresh token ends the whole grant (RFC 7009 2.1); the access token alone
    // might leave the refresh token usable.
    const token = credentials.refreshToken
      ? { value: credentials.refreshToken, hint: 'refresh_token' as const }
      : { value: credentials.accessToken, hint: 'access_token' as const };
    const client = this.registry.credentials(connection.provider);
    const descriptor = { ...auth, revokeUrl: auth.revokeUrl };
    await this.http.request(revocationRequest(connection.provider, descriptor, client, token));
    return true;
  }

  private async emitDeleted(connection: Connection, purgeItems: boolean): Promise<void> {
    const event: ConnectionEvent = {
      connectionId: connection.id,
      userId: connection.userId,
      provider: connection.provider,
      purgeItems,
    };
    try {
      await this.events.emitAsync(CONNECTION_EVENTS.deleted, event);
    } catch (error) {
      // A listener's failure (say, an unsubscribe) must not leave the credentials in place.
      this.logger.error({
        msg: 'a connection.deleted listener failed',
        connectionId: connection.id,
        reason: describe(error),
      });
    }
  }

  private async waitForLease(connectionId: string): Promise<Lease | null> {
    const deadline = Date.now() + LEASE_WAIT_MS;
    try {
      for (;;) {
        const lease = await this.leases.tryAcquire(connectionId, REFRESH_LEASE_TTL_MS);
        if (lease || Date.now() > deadline) return lease;
        await sleep(100);
      }
    } catch {
      // Redis away: disconnecting matters more than the rare race with a refresh.
      return null;
    }
  }
}

/** Error code and message only: HTTP errors here never carry bodies or query strings. */
function describe(error: unknown): string {
  const e = error as { code?: unknown; status?: unknown; message?: unknown };
  const parts = [e.code, e.status ? `HTTP ${String(e.status)}` : undefined].filter(Boolean);
  const text = parts.length ? parts.join(' ') : String(e.message ?? 'error');
  return text.slice(0, 200);
}
