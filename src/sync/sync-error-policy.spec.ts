import { describe, expect, it } from 'vitest';
import { ProviderError } from '@pdeck/integration-sdk';
import { backoffDelay, decide } from './sync-error-policy.js';

describe('sync error policy', () => {
  it('maps every code to one action', () => {
    const at = new Date('2026-11-28T10:00:00Z');
    expect(decide(new ProviderError('RATE_LIMITED', 'x', { retryAt: at }))).toEqual({
      action: 'delay',
      until: at,
    });
    expect(decide(new ProviderError('TEMPORARY', 'x'))).toEqual({ action: 'retry' });
    expect(decide(new ProviderError('UNKNOWN', 'x'))).toEqual({ action: 'retry' });
    expect(decide(new ProviderError('AUTH_REVOKED', 'x'))).toEqual({ action: 'reauth' });
    expect(decide(new ProviderError('CURSOR_INVALID', 'x'))).toEqual({ action: 'reset-cursor' });
    expect(decide(new ProviderError('PERMISSION', 'x'))).toEqual({
      action: 'skip-resource',
      status: 'permission',
    });
    expect(decide(new ProviderError('NOT_FOUND', 'x'))).toEqual({
      action: 'skip-resource',
      status: 'not_found',
    });
  });

  it('backs off exponentially with jitter, capped', () => {
    expect(backoffDelay(1, () => 0)).toBe(2_500);
    expect(backoffDelay(1, () => 1)).toBe(5_000);
    expect(backoffDelay(3, () => 1)).toBe(20_000);
    expect(backoffDelay(30, () => 1)).toBe(600_000);
  });
});
