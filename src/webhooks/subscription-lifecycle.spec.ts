import { describe, expect, it } from 'vitest';
import {
  attemptIsDue,
  SUBSCRIBE_STALE_MS,
  subscribeRetryDelay,
} from './subscription-lifecycle.service.js';
import type { SubscribeAttempt } from './webhook-subscriptions.store.js';

const MINUTE = 60_000;
const NOW = new Date('2026-12-01T12:00:00.000Z');

function attempt(overrides: Partial<SubscribeAttempt>): SubscribeAttempt {
  return {
    resourceId: 'cal-1',
    status: 'failed',
    failures: 1,
    startedAt: new Date(NOW.getTime() - MINUTE),
    nextAttemptAt: null,
    ...overrides,
  };
}

describe('subscribeRetryDelay', () => {
  it('waits 10 minutes after the first failure, doubling, and never more than a day', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 50].map((n) => subscribeRetryDelay(n) / MINUTE);
    expect(delays).toEqual([10, 20, 40, 80, 160, 320, 640, 1280, 1440, 1440, 1440]);
  });
});

describe('attemptIsDue', () => {
  it('retries a failure once its time has come', () => {
    const at = (ms: number) => attempt({ nextAttemptAt: new Date(NOW.getTime() + ms) });
    expect(attemptIsDue(at(1), NOW)).toBe(false);
    expect(attemptIsDue(at(0), NOW)).toBe(true);
    expect(attemptIsDue(at(-1), NOW)).toBe(true);
  });

  it('takes over a call under way only once it is stale (its worker died)', () => {
    const since = (ms: number) =>
      attempt({ status: 'pending', startedAt: new Date(NOW.getTime() - ms) });
    expect(attemptIsDue(since(SUBSCRIBE_STALE_MS - 1), NOW)).toBe(false);
    expect(attemptIsDue(since(SUBSCRIBE_STALE_MS), NOW)).toBe(true);
  });

  it('never retries a resource the provider cannot watch', () => {
    expect(attemptIsDue(attempt({ status: 'unsupported', startedAt: new Date(0) }), NOW)).toBe(
      false,
    );
  });
});
