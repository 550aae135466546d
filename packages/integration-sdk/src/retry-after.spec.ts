import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_MS, parseRetryAfter, retryAfterMs } from './retry-after.js';

const now = new Date('2024-05-01T12:00:00.000Z');
const plus = (ms: number) => new Date(now.getTime() + ms);

describe('parseRetryAfter', () => {
  it('returns undefined for a missing header', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('   ', now)).toBeUndefined();
  });

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('7', now)).toEqual(plus(7000));
    expect(parseRetryAfter(' 120 ', now)).toEqual(plus(120_000));
    expect(parseRetryAfter('0', now)).toEqual(now);
  });

  it('rounds decimal seconds up', () => {
    expect(parseRetryAfter('1.2', now)).toEqual(plus(2000));
    expect(parseRetryAfter('3.0', now)).toEqual(plus(3000));
  });

  it('reads an IMF-fixdate', () => {
    expect(parseRetryAfter('Wed, 01 May 2024 12:00:30 GMT', now)).toEqual(plus(30_000));
  });

  it('reads the obsolete RFC 850 and asctime forms as GMT', () => {
    expect(parseRetryAfter('Wednesday, 01-May-24 12:01:00 GMT', now)).toEqual(plus(60_000));
    expect(parseRetryAfter('Wed May  1 12:02:00 2024', now)).toEqual(plus(120_000));
  });

  it('treats past dates as now', () => {
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', now)).toEqual(now);
  });

  it('clamps absurd values to 24 hours', () => {
    expect(parseRetryAfter('999999999', now)).toEqual(plus(MAX_RETRY_AFTER_MS));
    expect(parseRetryAfter('Fri, 01 Jan 2100 00:00:00 GMT', now)).toEqual(plus(MAX_RETRY_AFTER_MS));
    expect(parseRetryAfter('86400', now)).toEqual(plus(MAX_RETRY_AFTER_MS));
  });

  it('rejects garbage', () => {
    for (const v of [
      'soon',
      '-5',
      '7 apples',
      '1e3',
      '0x10',
      'Wed, 31 Feb 2024 12:00:00 GMT',
      'Wed, 01 Foo 2024 12:00:00 GMT',
      '2024-05-01T12:00:30Z',
    ]) {
      expect(parseRetryAfter(v, now), v).toBeUndefined();
    }
  });
});

// The PDeck notification worker reads PDeck's Retry-After through this variant.
describe('retryAfterMs', () => {
  const jan1 = new Date('2026-01-01T00:00:00Z');

  it('parses seconds and HTTP dates into a wait from now', () => {
    expect(retryAfterMs('30', jan1)).toBe(30_000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:01:00 GMT', jan1)).toBe(60_000);
    expect(retryAfterMs('1.2', jan1)).toBe(2000);
  });

  it('waits 0 for a date in the past and at most 24 hours', () => {
    expect(retryAfterMs('Wed, 31 Dec 2025 00:00:00 GMT', jan1)).toBe(0);
    expect(retryAfterMs('999999999', jan1)).toBe(MAX_RETRY_AFTER_MS);
  });

  it('returns undefined for a missing or unreadable header, as parseRetryAfter does', () => {
    expect(retryAfterMs(null, jan1)).toBeUndefined();
    expect(retryAfterMs(undefined, jan1)).toBeUndefined();
    for (const v of ['soon', '-5', '2026-01-01T00:01:00Z']) {
      expect(retryAfterMs(v, jan1), v).toBeUndefined();
    }
  });

  it('measures from the current time by default', () => {
    expect(retryAfterMs('7')).toBe(7000);
  });
});
