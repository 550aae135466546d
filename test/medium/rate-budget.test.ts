import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ResolvedAppConfig } from '../../src/core/config/app-config.js';
import { isProviderError, type ProviderError, type RateBudget } from '@pdeck/integration-sdk';
import { MetricsService } from '../../src/core/metrics/metrics.service.js';
import { RateBudgetService } from '../../src/providers/rate-budget/rate-budget.service.js';
import { flushPrefix } from '../support/test-services.js';

/**
 * Two services on two ioredis clients stand in for two worker processes: the budget must hold
 * across them, which only works if the state and the clock both live in Redis.
 */
const conn = (connectionId: string) => ({ connectionId });
const APP = { kind: 'app' } as const;

describe('RateBudgetService (real Redis)', () => {
  const redisUrl = inject('redisUrl');
  const prefix = `test-rate-${randomBytes(4).toString('hex')}`;
  const clients: Redis[] = [];
  let a: RateBudgetService;
  let b: RateBudgetService;

  beforeAll(() => {
    const config = { redisKeyPrefix: prefix } as ResolvedAppConfig;
    clients.push(new Redis(redisUrl), new Redis(redisUrl));
    a = new RateBudgetService(clients[0]!, config, new MetricsService());
    b = new RateBudgetService(clients[1]!, config, new MetricsService());
  });

  afterAll(async () => {
    await flushPrefix(redisUrl, prefix);
    for (const c of clients) c.disconnect();
  });

  /** Settles every call; returns how many were admitted and the RATE_LIMITED errors. */
  async function settle(
    calls: Array<Promise<void>>,
  ): Promise<{ ok: number; limited: ProviderError[] }> {
    const results = await Promise.allSettled(calls);
    const limited: ProviderError[] = [];
    let ok = 0;
    for (const r of results) {
      if (r.status === 'fulfilled') ok++;
      else if (isProviderError(r.reason) && r.reason.code === 'RATE_LIMITED')
        limited.push(r.reason);
      else throw r.reason;
    }
    return { ok, limited };
  }

  // Windows are seconds long: every call of a test must land inside one window even on a busy
  // machine, and nothing here sleeps through a window except the test that waits on purpose.

  it('admits exactly `limit` of 30 concurrent calls from two processes when nobody may wait', async () => {
    const budgets: RateBudget[] = [{ scope: 'app', limit: 10, windowMs: 10_000 }];
    const start = Date.now();
    const calls = Array.from({ length: 30 }, (_, i) =>
      (i % 2 ? a : b).acquire('p-a', conn(`c${i % 3}`), budgets, { maxWaitMs: 0 }),
    );
    const { ok, limited } = await settle(calls);
    const end = Date.now();
    expect(ok).toBe(10);
    expect(limited).toHaveLength(20);
    for (const e of limited) {
      expect(e.provider).toBe('p-a');
      expect(e.retryAt!.getTime()).toBeGreaterThan(start);
      expect(e.retryAt!.getTime()).toBeLessThanOrEqual(end + 10_000);
    }
    // Every key the service wrote expires on its own.
    const keys = await clients[0]!.keys(`${prefix}:rate:*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) expect(await clients[0]!.pttl(k)).toBeGreaterThan(0);
  });

  it('lets waiting callers through without ever exceeding the limit in any window', async () => {
    const windowMs = 2_000;
    const budgets: RateBudget[] = [{ scope: 'connection', limit: 10, windowMs }];
    const admitted: number[] = [];
    const start = performance.now();
    await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        (i % 2 ? a : b)
          .acquire('p-b', conn('conn'), budgets, { maxWaitMs: 10_000 })
          .then(() => admitted.push(performance.now())),
      ),
    );
    admitted.sort((x, y) => x - y);
    expect(admitted).toHaveLength(25);
    // Redis decides on its own clock; we observe each reply later, by a varying amount (more on
    // a busy machine). So any 11 consecutive admissions must span at least the window minus that
    // delay; half a window of allowance is far more than any reply takes. Without the limiter all
    // 25 would land within a few ms.
    for (let i = 0; i + 10 < admitted.length; i++) {
      expect(admitted[i + 10]! - admitted[i]!).toBeGreaterThanOrEqual(windowMs / 2);
    }
    // Admissions come in three rounds (at 0, one and two windows); a waiter that slept through
    // the room appearing would push the last one out by a whole window or more.
    expect(admitted[24]! - start).toBeLessThan(3 * windowMs);
  });

  describe('app budget shared by connections, connection budget per connection', () => {
    // Trello's 100 / 10 s per token and 300 / 10 s per key, with the limits scaled down.
    const budgets: RateBudget[] = [
      { scope: 'connection', limit: 3, windowMs: 10_000 },
      { scope: 'app', limit: 5, windowMs: 10_000 },
    ];

    it('admits only the app limit when four connections each try their full connection budget', async () => {
      const calls = ['c1', 'c2', 'c3', 'c4'].flatMap((conn, n) =>
        [0, 1, 2].map(() =>
          (n % 2 ? a : b).acquire('p-c', { connectionId: conn }, budgets, { maxWaitMs: 0 }),
        ),
      );
      const { ok, limited } = await settle(calls);
      expect(ok).toBe(5);
      expect(limited).toHaveLength(7);
    });

    it('consumes nothing from any budget when one budget refuses (all-or-nothing)', async () => {
      const results: boolean[] = [];
      const tryOnce = (conn: string) =>
        a.acquire('p-d', { connectionId: conn }, budgets, { maxWaitMs: 0 }).then(
          () => true,
          (e: unknown) => {
            if (isProviderError(e) && e.code === 'RATE_LIMITED') return false;
            throw e;
          },
        );
      for (let i = 0; i < 4; i++) results.push(await tryOnce('x'));
      // x's 4th call hit its connection budget; had it taken an app unit, y would get only 1.
      for (let i = 0; i < 3; i++) results.push(await tryOnce('y'));
      expect(results).toEqual([true, true, true, false, true, true, false]);
    });
  });

  describe('block()', () => {
    // Blocks last 2 s, so that a busy machine cannot let one run out between two calls.
    it('refuses every connection until the block ends; a shorter later block does not shorten it', async () => {
      const blockedUntil = Date.now() + 2_000;
      await a.block('p-e', APP, new Date(blockedUntil));
      await b.block('p-e', APP, new Date(Date.now() + 50));
      const error = await b
        .acquire('p-e', conn('any'), [], { maxWaitMs: 0 })
        .catch((e: unknown) => e);
      expect(isProviderError(error) && error.code).toBe('RATE_LIMITED');
      const retryAt = (error as ProviderError).retryAt!.getTime();
      // Jitter on top: at least 100 ms, at most 20% of the 2 s (400 ms). The shorter block would
      // end at about +150 ms; the upper bound leaves a second for a slow round trip.
      expect(retryAt).toBeGreaterThanOrEqual(blockedUntil + 100 - 5);
      expect(retryAt).toBeLessThanOrEqual(blockedUntil + 400 + 1_000);
      await sleep(retryAt - Date.now() + 5);
      await expect(a.acquire('p-e', conn('any'), [], { maxWaitMs: 0 })).resolves.toBeUndefined();
    });

    it('blocks only the given connection, and a patient caller waits the block out', async () => {
      const blockedUntil = Date.now() + 2_000;
      await a.block('p-f', { kind: 'connection', connectionId: 'c1' }, new Date(blockedUntil));
      await expect(b.acquire('p-f', conn('c2'), [], { maxWaitMs: 0 })).resolves.toBeUndefined();
      await expect(b.acquire('p-f', conn('c1'), [], { maxWaitMs: 0 })).rejects.toMatchObject({
        code: 'RATE_LIMITED',
      });
      await b.acquire('p-f', conn('c1'), [], { maxWaitMs: 5_000 });
      expect(Date.now()).toBeGreaterThanOrEqual(blockedUntil);
    });
  });

  describe('per-method budgets and blocks of one account (Slack)', () => {
    const budgets: RateBudget[] = [
      { scope: 'account', limit: 1, windowMs: 10_000, operations: ['conversations.history'] },
      { scope: 'account', limit: 5, windowMs: 10_000 },
    ];
    const call = (connectionId: string, accountId: string, operation: string) => ({
      connectionId,
      accountId,
      operation,
    });
    const outcome = (p: Promise<void>) =>
      p.then(
        () => 'ok',
        (e: unknown) => (isProviderError(e) ? e.code : 'error'),
      );

    it('counts an operation budget across the connections of one account, and only that operation', async () => {
      const ops = { maxWaitMs: 0 };
      expect(
        await outcome(a.acquire('p-g', call('c1', 'T1', 'conversations.history'), budgets, ops)),
      ).toBe('ok');
      // Another connection of the same workspace shares the method budget; another workspace does not.
      expect(
        await outcome(b.acquire('p-g', call('c2', 'T1', 'conversations.history'), budgets, ops)),
      ).toBe('RATE_LIMITED');
      expect(
        await outcome(b.acquire('p-g', call('c3', 'T2', 'conversations.history'), budgets, ops)),
      ).toBe('ok');
      // Other methods of T1 go on.
      expect(await outcome(a.acquire('p-g', call('c2', 'T1', 'users.list'), budgets, ops))).toBe(
        'ok',
      );
    });

    it('a method block stops that method of that account only', async () => {
      await a.block(
        'p-h',
        { kind: 'method', accountId: 'T1', operation: 'conversations.history' },
        new Date(Date.now() + 2_000),
      );
      const ops = { maxWaitMs: 0 };
      expect(
        await outcome(b.acquire('p-h', call('c1', 'T1', 'conversations.history'), [], ops)),
      ).toBe('RATE_LIMITED');
      expect(await outcome(b.acquire('p-h', call('c1', 'T1', 'conversations.list'), [], ops))).toBe(
        'ok',
      );
      expect(
        await outcome(b.acquire('p-h', call('c9', 'T2', 'conversations.history'), [], ops)),
      ).toBe('ok');
    });
  });
});
