import { describe, expect, it } from 'vitest';
import type { ConnectionCredentials } from '@pdeck/integration-sdk';
import { dueTokens, needsRefresh, REFRESH_MARGIN_MS } from './token.service.js';

const NOW = Date.parse('2030-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(NOW + ms).toISOString();

describe('which tokens of a connection are due for a refresh', () => {
  const fresh = { accessToken: 'a', refreshToken: 'r', expiresAt: at(REFRESH_MARGIN_MS + 1_000) };
  const near = { accessToken: 'b', refreshToken: 'r2', expiresAt: at(REFRESH_MARGIN_MS - 1_000) };

  it('names the primary token (undefined) first, then linked tokens by name', () => {
    const creds: ConnectionCredentials = { ...near, linked: { user: near, other: fresh } };
    expect(dueTokens(creds, NOW)).toEqual([undefined, 'user']);
    expect(needsRefresh(creds, NOW)).toBe(true);
  });

  it('a linked token alone can make the connection due', () => {
    const creds: ConnectionCredentials = { ...fresh, linked: { user: near } };
    expect(dueTokens(creds, NOW)).toEqual(['user']);
  });

  it('tokens without expiry, or near expiry without a refresh token and not expired, are not due', () => {
    const creds: ConnectionCredentials = {
      accessToken: 'x',
      linked: { user: { accessToken: 'y', expiresAt: at(60_000) } },
    };
    expect(needsRefresh(creds, NOW)).toBe(false);
    // Expired without a refresh token: due, so the refresher reports the dead grant.
    const expired: ConnectionCredentials = {
      accessToken: 'x',
      linked: { user: { accessToken: 'y', expiresAt: at(-1) } },
    };
    expect(dueTokens(expired, NOW)).toEqual(['user']);
  });
});
