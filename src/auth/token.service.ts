import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { DecryptionError } from '../core/crypto/keyring.js';
import {
  isProviderError,
  ProviderError,
  type ConnectionCredentials,
  type OAuthToken,
} from '@pdeck/integration-sdk';
import { CONNECTION_EVENTS, type ConnectionEvent } from './connection-events.js';
import { ConnectionStore } from './connection-store.service.js';
import { awaitsSiteChoice, Connection } from './entities/connection.entity.js';
import { type JournalEntry, RefreshJournal } from './refresh-journal.js';
import { type Lease, RefreshLeases } from './refresh-lease.js';
import { TokenRefresher } from './token-refresher.js';

/** Refresh this long before expiry, so a token never expires in the middle of a sync page. */
export const REFRESH_MARGIN_MS = 5 * 60_000;
/** Longer than a token request may take (TOKEN_REQUEST_TIMEOUT_MS) plus the database write. */
export const REFRESH_LEASE_TTL_MS = 30_000;
/** Waiters give up only after a crashed holder's lease would have expired and been retaken. */
const WAIT_LIMIT_MS = REFRESH_LEASE_TTL_MS + 5_000;
const POLL_MIN_MS = 50;
const POLL_JITTER_MS = 50;

interface Snapshot {
  connection: Connection;
  credentials: ConnectionCredentials;
}

/**
 * Hands out valid credentials for a connection and keeps them fresh. At most one refresh per
 * connection runs at a time: in this process through a map of in-flight promises, across
 * processes through a Redis lease. Everyone else re-reads Postgres instead of refreshing, because
 * a provider that rotates refresh tokens revokes the whole grant when an old one is used again.
 * For the same reason every answer goes to a Redis journal before Postgres, so a failed database
 * write never sends the old refresh token again (see RefreshJournal).
 */
@Injectable()
export class TokenService {
  private readonly logger = new Logger('TokenService');
  private readonly inFlight = new Map<string, Promise<ConnectionCredentials>>();

  constructor(
    private readonly store: ConnectionStore,
    private readonly refresher: TokenRefresher,
    private readonly leases: RefreshLeases,
    private readonly journal: RefreshJournal,
    private readonly events: EventEmitter2,
    @InjectRepository(Connection) private readonly connections: Repository<Connection>,
  ) {}

  /**
   * Valid credentials, refreshed first when they expire within REFRESH_MARGIN_MS. Throws
   * ProviderError AUTH_REVOKED when the connection is not active (or the grant just died),
   * TEMPORARY / RATE_LIMITED when the provider or Redis cannot be reached (stays active),
   * NotFoundException for an unknown id and DecryptionError for a value that does not decrypt.
   */
  /** `loaded`: the connection's row when the caller just read it (saves reading it again). */
  async getCredentials(connectionId: string, loaded?: Connection): Promise<ConnectionCredentials> {
    const { credentials } = await this.read(connectionId, loaded);
    if (!needsRefresh(credentials)) return credentials;
    let pending = this.inFlight.get(connectionId);
    if (!pending) {
      pending = this.refreshCoordinated(connectionId).finally(() =>
        this.inFlight.delete(connectionId),
      );
      this.inFlight.set(connectionId, pending);
    }
    return pending;
  }

  /**
   * Credentials for one job's provider calls: read (and refreshed when due) on the first call,
   * then reused while none of the grant's tokens nears expiry, so a sync of many pages does not
   * read and decrypt the row before every request. A token the provider refuses fails the job
   * (expireAccessToken), and its retry reads afresh.
   */
  credentialsSource(connection: Connection): () => Promise<ConnectionCredentials> {
    let current: ConnectionCredentials | undefined;
    let loaded: Connection | undefined = connection;
    return async () => {
      if (current === undefined || needsRefresh(current)) {
        current = await this.getCredentials(connection.id, loaded);
        loaded = undefined;
      }
      return current;
    };
  }

  /**
   * The provider refused the stored access token before its stored expiry: mark it expired, so
   * the next getCredentials refreshes it (once, through the lease) instead of sending it again
   * until it would have expired. Without a refresh token there is nothing to gain: no change.
   */
  async expireAccessToken(connectionId: string): Promise<void> {
    const { connection, credentials } = await this.read(connectionId);
    if (!credentials.refreshToken || needsRefresh(credentials)) return;
    // Which token was refused is not known here (Slack: the bot's or the user's): every
    // refreshable one is renewed, which costs one extra refresh at most.
    const expired = new Date(0).toISOString();
    const linked = credentials.linked
      ? Object.fromEntries(
          Object.entries(credentials.linked).map(([name, token]) => [
            name,
            token.refreshToken ? { ...token, expiresAt: expired } : token,
          ]),
        )
      : undefined;
    // A lost compare-and-swap means the credentials changed meanwhile (refreshed): fine.
    await this.store.swapCredentials(connectionId, connection.tokenVersion, {
      ...credentials,
      expiresAt: expired,
      ...(linked ? { linked } : {}),
    });
  }

  async getAccessToken(connectionId: string): Promise<string> {
    return (await this.getCredentials(connectionId)).accessToken;
  }

  /**
   * Moves an active connection to needs_reauth and tells Sync, Webhooks and PDeck. For providers
   * whose API (not token endpoint) reports a dead grant: Slack token_revoked, Trello 401. `reason`
   * is a short error code, never token material. Returns false when it was not active anymore
   * (someone else already made the transition and emitted the event).
   */
  async markNeedsReauth(connectionId: string, why: string): Promise<boolean> {
    const reason = why.slice(0, 200);
    // Conditional on 'active' so 50 failing jobs produce one transition and one event.
    const result = await this.connections.update(
      { id: connectionId, status: 'active' },
      { status: 'needs_reauth', lastError: reason },
    );
    if (!result.affected) return false;
    const connection = await this.store.get(connectionId);
    this.logger.warn({
      msg: 'connection needs re-authorization',
      connectionId,
      provider: connection.provider,
      reason,
    });
    const event: ConnectionEvent = {
      connectionId,
      userId: connection.userId,
      provider: connection.provider,
      reason,
    };
    try {
      await this.events.emitAsync(CONNECTION_EVENTS.needsReauth, event);
    } catch (error) {
      // The transition is stored; a failing listener must not turn AUTH_REVOKED into a 500.
      this.logger.error({
        msg: 'a needs_reauth listener failed',
        connectionId,
        error: (error as Error).message,
      });
    }
    return true;
  }

  /** Takes the cross-process lease, or waits for its holder and re-reads what it stored. */
  private async refreshCoordinated(connectionId: string): Promise<ConnectionCredentials> {
    const deadline = Date.now() + WAIT_LIMIT_MS;
    for (;;) {
      const lease = await this.acquire(connectionId);
      if (lease) {
        try {
          return await this.refreshUnderLease(connectionId);
        } finally {
          await lease.release();
        }
      }
      await sleep(POLL_MIN_MS + Math.random() * POLL_JITTER_MS);
      const { credentials } = await this.read(connectionId);
      if (!needsRefresh(credentials)) return credentials;
      if (Date.now() > deadline) {
        throw new ProviderError(
          'TEMPORARY',
          `Token refresh of connection ${connectionId} by another worker did not finish`,
          { detail: 'refresh_wait_timeout' },
        );
      }
    }
  }

  private async refreshUnderLease(connectionId: string): Promise<ConnectionCredentials> {
    // Re-read under the lease: the previous holder may have refreshed just before we got it.
    const stored = await this.read(connectionId);
    if (!needsRefresh(stored.credentials)) return stored.credentials;
    // Or it got an answer it could not store. (A fresh row has no such answer pending: a refresh
    // starts only from credentials that need one, and a row that stays at that version still does.)
    const { connection, credentials } = await this.recover(stored);
    if (!needsRefresh(credentials)) return credentials;
    // One refresh call per due token (Slack: the bot token and the user token), each answer
    // journaled before the next call, so a crash in between never re-sends a rotated one.
    let next = credentials;
    let journaled: string | null = null;
    for (const name of dueTokens(credentials)) {
      try {
        next = await this.refresher.refresh(connection, next, name);
      } catch (error) {
        if (next !== credentials) await this.persist(connection, next, journaled);
        if (isProviderError(error) && error.code === 'AUTH_REVOKED') {
          // Stored before the lease is released, so waiters see needs_reauth and send nothing.
          await this.markNeedsReauth(connectionId, error.detail ?? 'invalid_grant');
        }
        throw error;
      }
      journaled = await this.journalAnswer(connection, next);
    }
    return this.persist(connection, next, journaled);
  }

  /** Writes refreshed credentials over the version they started from; clears their journal. */
  private async persist(
    connection: Connection,
    next: ConnectionCredentials,
    journaled: string | null,
  ): Promise<ConnectionCredentials> {
    const connectionId = connection.id;
    // A throw here (database down, statement timeout) propagates and the job retries; the
    // journal keeps the answer for whoever takes the lease next.
    const swapped = await this.store.swapCredentials(connectionId, connection.tokenVersion, next);
    if (journaled !== null) await this.clearJournal(connection, journaled);
    if (swapped) {
      this.logger.log({ msg: 'token refreshed', connectionId, provider: connection.provider });
      return next;
    }
    // The row changed under us (reconnect, disconnect, or a lease that expired): the stored
    // value wins, since it may hold a refresh token newer than the one we just used.
    this.logger.warn({ msg: 'refreshed token lost a compare-and-swap; re-reading', connectionId });
    return (await this.read(connectionId)).credentials;
  }

  /**
   * Stores an answer that a previous holder journaled but could not write to Postgres. It
   * applies only while the row still holds the version that refresh started from; a row that
   * moved on (reconnect, disconnect, a later refresh) holds newer credentials than the journal.
   */
  private async recover(snapshot: Snapshot): Promise<Snapshot> {
    const { connection } = snapshot;
    const connectionId = connection.id;
    const provider = connection.provider;
    let entry: JournalEntry | null;
    try {
      entry = await this.journal.read(connectionId);
    } catch (error) {
      // Without knowing whether an answer is pending, a refresh might present a refresh token
      // the provider already rotated away, and that revokes the grant: retry the job instead.
      this.logger.error({
        msg: 'refresh journal unreadable; not refreshing',
        connectionId,
        provider,
        error: (error as Error).message,
        ...(error instanceof DecryptionError ? { kid: error.kid ?? 'unknown' } : {}),
      });
      throw new ProviderError('TEMPORARY', `Refresh journal of ${connectionId} unavailable`, {
        cause: error,
        provider,
        detail: 'journal_unavailable',
      });
    }
    if (!entry) return snapshot;
    if (entry.baseTokenVersion !== connection.tokenVersion) {
      this.logger.warn({
        msg: 'discarding a refresh journal of an older token version',
        connectionId,
        provider,
        journalVersion: entry.baseTokenVersion,
        tokenVersion: connection.tokenVersion,
      });
      await this.clearJournal(connection, entry.stored);
      return snapshot;
    }
    const swapped = await this.store.swapCredentials(
      connectionId,
      connection.tokenVersion,
      entry.credentials,
    );
    if (swapped) {
      this.logger.warn({
        msg: 'stored a refreshed token from the journal',
        connectionId,
        provider,
      });
    } else {
      // The row moved on since we read it (reconnect, disconnect, a lease that expired under
      // us): it holds newer credentials, so the journal is stale.
      this.logger.warn({ msg: 'journaled token lost a compare-and-swap', connectionId, provider });
    }
    await this.clearJournal(connection, entry.stored);
    return this.read(connectionId);
  }

  /** The stored journal value, or null when Redis refused it: the answer still goes to Postgres. */
  private async journalAnswer(
    connection: Connection,
    next: ConnectionCredentials,
  ): Promise<string | null> {
    try {
      return await this.journal.write(connection.id, connection.tokenVersion, next);
    } catch (error) {
      this.logger.error({
        msg: 'refresh journal write failed; storing the refreshed token without it',
        connectionId: connection.id,
        provider: connection.provider,
        error: (error as Error).message,
      });
      return null;
    }
  }

  /** Best effort: a journal left behind is discarded by the next holder (its version is old). */
  private async clearJournal(connection: Connection, stored: string): Promise<void> {
    try {
      await this.journal.clear(connection.id, stored);
    } catch (error) {
      this.logger.warn({
        msg: 'refresh journal not cleared',
        connectionId: connection.id,
        provider: connection.provider,
        error: (error as Error).message,
      });
    }
  }

  private async acquire(connectionId: string): Promise<Lease | null> {
    try {
      return await this.leases.tryAcquire(connectionId, REFRESH_LEASE_TTL_MS);
    } catch (error) {
      // Without the lease another process might refresh too; better to retry the job later.
      throw new ProviderError('TEMPORARY', 'Refresh lease unavailable (Redis)', {
        cause: error,
        detail: 'lease_unavailable',
      });
    }
  }

  private async read(connectionId: string, loaded?: Connection): Promise<Snapshot> {
    const connection = loaded ?? (await this.store.get(connectionId));
    // A connection waiting for its site choice has a confirmed grant: listing its sites needs it.
    if (connection.status !== 'active' && !awaitsSiteChoice(connection)) {
      throw new ProviderError(
        'AUTH_REVOKED',
        `Connection ${connectionId} is ${connection.status}`,
        {
          provider: connection.provider,
          detail: connection.status,
        },
      );
    }
    try {
      return { connection, credentials: this.store.credentialsOf(connection) };
    } catch (error) {
      // Our fault, not the user's (a key this process lacks during a key rotation, a damaged
      // row): the connection stays active, never needs_reauth, and the caller's job retries,
      // possibly on a process that has the key. The key id comes from the stored value.
      if (error instanceof DecryptionError) {
        this.logger.error({
          msg: 'stored credentials do not decrypt: is this key in ENCRYPTION_KEYS?',
          connectionId,
          provider: connection.provider,
          kid: error.kid ?? 'unknown',
        });
      }
      throw error;
    }
  }
}

/**
 * True when the token expires within the margin and refreshing can help: with a refresh token,
 * or when it has already expired (then the refresher reports the grant as needing re-auth).
 */
export function tokenDue(token: OAuthToken, now = Date.now()): boolean {
  if (!token.expiresAt) return false;
  const expiresAt = Date.parse(token.expiresAt);
  if (Number.isNaN(expiresAt)) return Boolean(token.refreshToken);
  if (expiresAt - now >= REFRESH_MARGIN_MS) return false;
  return Boolean(token.refreshToken) || expiresAt <= now;
}

/** The tokens to refresh now: undefined stands for the primary one, then linked ones by name. */
export function dueTokens(
  credentials: ConnectionCredentials,
  now = Date.now(),
): Array<string | undefined> {
  const due: Array<string | undefined> = tokenDue(credentials, now) ? [undefined] : [];
  for (const [name, token] of Object.entries(credentials.linked ?? {})) {
    if (tokenDue(token, now)) due.push(name);
  }
  return due;
}

/** True when any token of the connection (primary or linked) is due for a refresh. */
export function needsRefresh(credentials: ConnectionCredentials, now = Date.now()): boolean {
  return dueTokens(credentials, now).length > 0;
}
