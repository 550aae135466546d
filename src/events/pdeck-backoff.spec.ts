import type { MinimalJob } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { retryAfterMs } from '@pdeck/integration-sdk';
import { MAX_BACKOFF_MS, PDECK_BACKOFF_TYPE, PDECK_EVENTS_ATTEMPTS } from './events.constants.js';
import { pdeckBackoffDelay, pdeckBackoffStrategy, RetryAfterError } from './pdeck-backoff.js';

const job = (delay: number) =>
  ({ opts: { backoff: { type: PDECK_BACKOFF_TYPE, delay } } }) as unknown as MinimalJob;

describe('pdeckBackoffDelay', () => {
  it('doubles from the base, caps at 1 h and jitters by ±20 %', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4].map((n) => pdeckBackoffDelay(n, 10_000, mid))).toEqual([
      10_000, 20_000, 40_000, 80_000,
    ]);
    expect(pdeckBackoffDelay(10, 10_000, mid)).toBe(MAX_BACKOFF_MS);
    expect(pdeckBackoffDelay(40, 10_000, mid)).toBe(MAX_BACKOFF_MS);
    expect(pdeckBackoffDelay(1, 10_000, () => 0)).toBe(8_000);
    expect(pdeckBackoffDelay(1, 10_000, () => 0.999999)).toBe(12_000);
  });

  it('spans about 6 h 25 min over all retries (the documented total)', () => {
    let total = 0;
    for (let n = 1; n < PDECK_EVENTS_ATTEMPTS; n++)
      total += pdeckBackoffDelay(n, 10_000, () => 0.5);
    expect(total).toBe(23_110_000);
  });
});

describe('pdeckBackoffStrategy', () => {
  it('reads the base delay from the job options', () => {
    const delay = pdeckBackoffStrategy(3, PDECK_BACKOFF_TYPE, new Error('x'), job(50)) as number;
    expect(delay).toBeGreaterThanOrEqual(160);
    expect(delay).toBeLessThanOrEqual(240);
  });

  it('waits at least Retry-After, capped at 1 h', () => {
    const err = new RetryAfterError('429', 120_000);
    expect(pdeckBackoffStrategy(1, PDECK_BACKOFF_TYPE, err, job(50))).toBe(120_000);
    const huge = new RetryAfterError('429', 86_400_000);
    expect(pdeckBackoffStrategy(1, PDECK_BACKOFF_TYPE, huge, job(50))).toBe(MAX_BACKOFF_MS);
  });

  it('rejects unknown strategy names', () => {
    expect(() => pdeckBackoffStrategy(1, 'other', new Error('x'), job(50))).toThrow(/Unknown/);
  });
});

describe('Retry-After from PDeck', () => {
  it('is read by the shared HTTP rule and honoured up to 1 h', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const wait = (header: string) =>
      pdeckBackoffStrategy(
        1,
        PDECK_BACKOFF_TYPE,
        new RetryAfterError('429', retryAfterMs(header, now)!),
        job(50),
      );
    expect(wait('120')).toBe(120_000);
    expect(wait('Thu, 01 Jan 2026 00:02:00 GMT')).toBe(120_000);
    // The HTTP rule clamps at 24 h, the backoff at 1 h.
    expect(wait('86400')).toBe(MAX_BACKOFF_MS);
    // A date in the past waits 0: the exponential backoff applies.
    const past = wait('Wed, 31 Dec 2025 00:00:00 GMT') as number;
    expect(past).toBeGreaterThanOrEqual(40);
    expect(past).toBeLessThanOrEqual(60);
  });
});
