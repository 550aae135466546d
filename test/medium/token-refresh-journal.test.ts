import type { INestApplicationContext } from '@nestjs/common';
import type { Redis, RedisKey } from 'ioredis';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { ConnectionStore } from '../../src/auth/connection-store.service.js';
import { RefreshJournal } from '../../src/auth/refresh-journal.js';
import { TokenRefresher } from '../../src/auth/token-refresher.js';
import { TokenService } from '../../src/auth/token.service.js';
import { REDIS } from '../../src/core/redis/redis.tokens.js';
import { ProviderError } from '@pdeck/integration-sdk';
import { CapturingLogger, redisValues } from '../support/leak-check.js';
import type { OidcServer } from '../support/oidc-server.js';
import {
  expireStored,
  refreshRequests,
  rejection,
  startAuthPair,
  userinfoStatus,
  type AuthPair,
} from '../support/token-test-kit.js';

describe('TokenService refresh journal: a rotated refresh token survives a failed database write', () => {
  const logs = new CapturingLogger();
  /** Every refresh token presented at the token endpoint, as the authorization server saw it. */
  const presented: string[] = [];
  let pair: AuthPair;
  let oidc: OidcServer;
  let a: INestApplicationContext;
  let b: INestApplicationContext;
  let store: ConnectionStore;
  let journal: RefreshJournal;
  let issued: string[];
  let prefix: string;

  /** A real grant stored as a connection of its own account, due for a refresh. */
  const connectExpired = async (account: string) => {
    const { tokens, connection } = await pair.connect(account);
    return { tokens, connection: await expireStored(store, connection.id) };
  };

  /** Process a gets an answer from the provider, then Postgres refuses to store it. */
  const refreshWithFailingSwap = async (connectionId: string) => {
    const refresh = vi.spyOn(a.get(TokenRefresher), 'refresh');
    const swap = vi
      .spyOn(a.get(ConnectionStore), 'swapCredentials')
      .mockRejectedValueOnce(new Error('Connection terminated unexpectedly'));
    const error = await rejection(a.get(TokenService).getCredentials(connectionId));
    expect(swap).toHaveBeenCalledTimes(1);
    expect(refresh).toHaveBeenCalledTimes(1);
    const answer = await refresh.mock.results[0].value;
    issued.push(answer.accessToken, answer.refreshToken!);
    swap.mockRestore();
    refresh.mockRestore();
    return { error, answer };
  };

  const reusedTokens = () => presented.length - new Set(presented).size;

  beforeAll(async () => {
    pair = await startAuthPair(logs);
    ({ oidc, a, b, issued } = pair);
    prefix = pair.shared.prefix;
    const record = (ctx: KoaContextWithOIDC) => {
      const params = ctx.oidc.params;
      if (params?.grant_type === 'refresh_token') presented.push(String(params.refresh_token));
    };
    oidc.provider.on('grant.success', record);
    oidc.provider.on('grant.error', record);
    store = b.get(ConnectionStore);
    journal = b.get(RefreshJournal);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    await pair?.close();
  });

  it('an answer Postgres refused is stored from the journal, never by presenting the old refresh token', async () => {
    const { tokens, connection } = await connectExpired('alpha');
    const before = refreshRequests(oidc);

    const { error, answer } = await refreshWithFailingSwap(connection.id);
    expect((error as Error).message).toBe('Connection terminated unexpectedly');
    expect(refreshRequests(oidc) - before).toBe(1);
    expect(answer.refreshToken).not.toBe(tokens.refresh_token);
    expect((await store.get(connection.id)).tokenVersion).toBe(connection.tokenVersion);
    const redisDuringOutage = await redisValues(inject('redisUrl'), prefix);

    // The other process needs the token next: it stores the journaled answer (still fresh)
    // instead of presenting the refresh token the provider already rotated away.
    const recovered = await b.get(TokenService).getCredentials(connection.id);
    expect(recovered).toEqual(answer);
    expect(refreshRequests(oidc) - before).toBe(1);
    expect(presented).toContain(tokens.refresh_token);
    expect(reusedTokens()).toBe(0);
    const row = await store.get(connection.id);
    expect(row.status).toBe('active');
    expect(row.tokenVersion).toBe(connection.tokenVersion + 1);
    expect(store.credentialsOf(row)).toEqual(answer);
    expect(await journal.read(connection.id)).toBeNull();
    expect(await userinfoStatus(oidc, answer.accessToken)).toBe(200);
    expect(logs.lines.some((l) => l.includes('stored a refreshed token from the journal'))).toBe(
      true,
    );
    // Meanwhile Redis held the answer as ciphertext only.
    expect(redisDuringOutage).toContain(`journal:refresh:${connection.id}`);
    expect(redisDuringOutage).not.toContain(answer.refreshToken);
    expect(redisDuringOutage).not.toContain(answer.accessToken);
  });

  it('a journaled answer that expired meanwhile is stored, then refreshed with its own refresh token', async () => {
    const { tokens, connection } = await connectExpired('bravo');
    const before = refreshRequests(oidc);
    const { answer } = await refreshWithFailingSwap(connection.id);
    // The outage outlasted the access token: the journal now holds an expired one.
    const past = new Date(Date.now() - 60_000).toISOString();
    await journal.write(connection.id, connection.tokenVersion, { ...answer, expiresAt: past });

    const fresh = await b.get(TokenService).getCredentials(connection.id);
    issued.push(fresh.accessToken, fresh.refreshToken!);
    expect(refreshRequests(oidc) - before).toBe(2);
    expect(presented.slice(-2)).toEqual([tokens.refresh_token, answer.refreshToken]);
    expect(reusedTokens()).toBe(0);
    expect(fresh.refreshToken).not.toBe(answer.refreshToken);
    const row = await store.get(connection.id);
    expect(row.status).toBe('active');
    // One write for the recovered answer, one for the refresh after it.
    expect(row.tokenVersion).toBe(connection.tokenVersion + 2);
    expect(store.credentialsOf(row)).toEqual(fresh);
    expect(await journal.read(connection.id)).toBeNull();
    expect(await userinfoStatus(oidc, fresh.accessToken)).toBe(200);
  });

  it('a journal from before a reconnect is discarded, not applied', async () => {
    const { connection } = await connectExpired('charlie');
    const { answer: stale } = await refreshWithFailingSwap(connection.id);
    expect(await journal.read(connection.id)).toMatchObject({
      baseTokenVersion: connection.tokenVersion,
      credentials: stale,
    });

    // The user connects the same account again: a new grant, a newer version of the row.
    const { tokens, connection: reconnected } = await connectExpired('charlie');
    expect(reconnected.id).toBe(connection.id);
    expect(reconnected.tokenVersion).toBeGreaterThan(connection.tokenVersion);
    const before = refreshRequests(oidc);

    const fresh = await b.get(TokenService).getCredentials(connection.id);
    issued.push(fresh.accessToken, fresh.refreshToken!);
    // The journal held fresh credentials: had it been applied, nothing would have been refreshed.
    expect(fresh.accessToken).not.toBe(stale.accessToken);
    expect(refreshRequests(oidc) - before).toBe(1);
    expect(presented.at(-1)).toBe(tokens.refresh_token);
    expect(presented).not.toContain(stale.refreshToken);
    expect(reusedTokens()).toBe(0);
    const row = await store.get(connection.id);
    expect(row.status).toBe('active');
    expect(row.tokenVersion).toBe(reconnected.tokenVersion + 1);
    expect(store.credentialsOf(row)).toEqual(fresh);
    expect(await journal.read(connection.id)).toBeNull();
    expect(logs.lines.some((l) => l.includes('discarding a refresh journal'))).toBe(true);
  });

  it('a journal that cannot be read -> TEMPORARY, the provider is not asked', async () => {
    const { tokens, connection } = await connectExpired('delta');
    const service = a.get(TokenService);
    const refresh = vi.spyOn(a.get(TokenRefresher), 'refresh');
    const before = refreshRequests(oidc);
    const expectJournalUnavailable = (error: unknown) => {
      expect(error).toBeInstanceOf(ProviderError);
      expect((error as ProviderError).code).toBe('TEMPORARY');
      expect((error as ProviderError).detail).toBe('journal_unavailable');
    };

    // Redis answers the lease but fails the journal read.
    const redis = a.get<Redis>(REDIS);
    const journalKey = journal.key(connection.id);
    const get = redis.get.bind(redis);
    const failing = vi
      .spyOn(redis, 'get')
      .mockImplementation(((key: RedisKey) =>
        String(key) === journalKey
          ? Promise.reject(new Error('Connection is closed.'))
          : get(key)) as Redis['get']);
    expectJournalUnavailable(await rejection(service.getCredentials(connection.id)));
    expect(failing).toHaveBeenCalledWith(journalKey);
    failing.mockRestore();

    // A value that does not decrypt for this connection (here: another connection's entry).
    const foreign = await journal.write('another-connection', connection.tokenVersion, {
      accessToken: 'x',
      refreshToken: 'y',
    });
    await a.get<Redis>(REDIS).set(journalKey, foreign);
    expectJournalUnavailable(await rejection(service.getCredentials(connection.id)));

    expect(refresh).not.toHaveBeenCalled();
    expect(refreshRequests(oidc) - before).toBe(0);
    const row = await store.get(connection.id);
    expect(row.status).toBe('active');
    expect(row.tokenVersion).toBe(connection.tokenVersion);

    // Once the journal reads again, the next attempt refreshes (the lease was released).
    await journal.clear(connection.id);
    await journal.clear('another-connection');
    const fresh = await service.getCredentials(connection.id);
    issued.push(fresh.accessToken, fresh.refreshToken!);
    expect(refreshRequests(oidc) - before).toBe(1);
    expect(presented.at(-1)).toBe(tokens.refresh_token);
    expect(reusedTokens()).toBe(0);
  });

  it('a journal that cannot be written does not cost the answer: it still goes to Postgres', async () => {
    const { tokens, connection } = await connectExpired('echo');
    const write = vi
      .spyOn(a.get(RefreshJournal), 'write')
      .mockRejectedValueOnce(new Error('Connection is closed.'));
    const before = refreshRequests(oidc);

    const fresh = await a.get(TokenService).getCredentials(connection.id);
    issued.push(fresh.accessToken, fresh.refreshToken!);
    expect(write).toHaveBeenCalledTimes(1);
    expect(refreshRequests(oidc) - before).toBe(1);
    expect(fresh.refreshToken).not.toBe(tokens.refresh_token);
    const row = await store.get(connection.id);
    expect(row.tokenVersion).toBe(connection.tokenVersion + 1);
    expect(store.credentialsOf(row)).toEqual(fresh);
    expect(await journal.read(connection.id)).toBeNull();
    expect(logs.lines.some((l) => l.includes('refresh journal write failed'))).toBe(true);
  });

  it('never writes a token into logs or Redis', async () => {
    expect(issued.length).toBeGreaterThan(10);
    const logText = logs.lines.join('\n');
    const redisText = await redisValues(inject('redisUrl'), prefix);
    for (const token of issued) {
      expect(logText).not.toContain(token);
      expect(redisText).not.toContain(token);
    }
  });
});
