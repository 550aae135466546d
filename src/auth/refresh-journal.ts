import { Inject, Injectable } from '@nestjs/common';
import type { RedisClient } from '../core/redis/redis-client.js';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import { CryptoService } from '../core/crypto/crypto.service.js';
import type { EncryptionContext } from '../core/crypto/keyring.js';
import { REDIS } from '../core/redis/redis.tokens.js';
import type { ConnectionCredentials } from '@pdeck/integration-sdk';

/**
 * How long an unconfirmed answer is kept. It only matters while Postgres refuses the write, and
 * must outlast such an outage plus the retries after it: once it is gone, the next refresh
 * presents the old, already rotated refresh token, and Atlassian revokes the whole token family
 * when that happens outside its reuse leeway
 * (https://developer.atlassian.com/cloud/oauth/getting-started/refresh-tokens). A week covers a
 * long outage over a weekend; the refresh token itself lives 90 days idle (same page), so it is
 * not the limit. Longer would only keep dead ciphertext around after a reconnect.
 */
export const REFRESH_JOURNAL_TTL_MS = 7 * 24 * 60 * 60_000;

/** Deletes the key only while it still holds the given value, like the lease release (one key). */
const CLEAR_IF_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface JournalEntry {
  /** The connection's token_version the refresh started from. */
  baseTokenVersion: number;
  credentials: ConnectionCredentials;
  /** The stored value, so clearing removes this entry and never a later holder's. */
  stored: string;
}

interface JournalPlaintext {
  baseTokenVersion: number;
  credentials: ConnectionCredentials;
}

/**
 * Write-ahead record of a refresh answer, per connection, owned by whoever holds the refresh
 * lease: written before the answer goes to Postgres and cleared after, so a provider that
 * rotated the refresh token is never asked again with the old one because the database write
 * failed. Redis holds ciphertext only, bound to the connection id.
 */
@Injectable()
export class RefreshJournal {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
    private readonly crypto: CryptoService,
  ) {}

  key(connectionId: string): string {
    return `${this.config.redisKeyPrefix}:journal:refresh:${connectionId}`;
  }

  /** Records the answer; returns the stored value for `clear`. Throws when Redis fails. */
  async write(
    connectionId: string,
    baseTokenVersion: number,
    credentials: ConnectionCredentials,
  ): Promise<string> {
    const plaintext: JournalPlaintext = { baseTokenVersion, credentials };
    const stored = this.crypto.encryptJson(plaintext, journalAad(connectionId));
    await this.redis.set(this.key(connectionId), stored, 'PX', REFRESH_JOURNAL_TTL_MS);
    return stored;
  }

  /**
   * The entry, or null when there is none. Throws when Redis fails, and DecryptionError when the
   * value does not decrypt (a key this process lacks, a value moved from another connection).
   */
  async read(connectionId: string): Promise<JournalEntry | null> {
    const stored = await this.redis.get(this.key(connectionId));
    if (stored === null) return null;
    const plaintext = this.crypto.decryptJson<JournalPlaintext>(stored, journalAad(connectionId));
    // Authenticated, so only a writer of another shape could produce this: refuse to guess.
    if (
      !Number.isInteger(plaintext.baseTokenVersion) ||
      typeof plaintext.credentials?.accessToken !== 'string'
    ) {
      throw new Error(`Refresh journal of connection ${connectionId} has an unexpected shape`);
    }
    return { ...plaintext, stored };
  }

  /** Removes the entry; with `stored`, only while the key still holds that exact value. */
  async clear(connectionId: string, stored?: string): Promise<void> {
    const key = this.key(connectionId);
    if (stored === undefined) await this.redis.del(key);
    else await this.redis.eval(CLEAR_IF_SCRIPT, 1, key, stored);
  }
}

function journalAad(connectionId: string): EncryptionContext {
  return { table: 'refresh_journal', column: 'credentials', rowId: connectionId };
}
