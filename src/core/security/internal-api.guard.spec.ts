import { describe, expect, it } from 'vitest';
import type { ResolvedAppConfig } from '../config/app-config.js';
import { Reflector } from '@nestjs/core';
import { bearerToken, InternalApiGuard } from './internal-api.guard.js';

describe('InternalApiGuard.matches', () => {
  const guard = new InternalApiGuard(new Reflector(), {
    internalApiTokens: ['first-token-0123456789abcdef', 'second-token-0123456789abcdef'],
  } as ResolvedAppConfig);

  it('accepts every configured token and nothing else', () => {
    expect(guard.matches('first-token-0123456789abcdef')).toBe(true);
    expect(guard.matches('second-token-0123456789abcdef')).toBe(true);
    expect(guard.matches('first-token-0123456789abcdeF')).toBe(false);
    expect(guard.matches('first-token')).toBe(false);
    expect(guard.matches('')).toBe(false);
    expect(guard.matches(undefined)).toBe(false);
  });

  it('reads only the Bearer scheme', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
