import { createHmac } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { bearerToken, hmac, safeEqual, verifyHs256Jwt } from './verify.js';

const SECRET = 'app-secret-0123456789';
const NOW = new Date('2026-12-06T10:00:00Z');

async function jwt(claims: Record<string, unknown>, alg = 'HS256', secret = SECRET) {
  return new SignJWT(claims).setProtectedHeader({ alg }).sign(new TextEncoder().encode(secret));
}

describe('hmac', () => {
  it('signs the exact parts in order, bytes and text alike', () => {
    const body = Buffer.from('{"a":"\\/é"}', 'utf8');
    const expected = createHmac('sha256', SECRET).update('v0:1:').update(body).digest('hex');
    expect(hmac('sha256', SECRET, 'v0:1:', body).toString('hex')).toBe(expected);
    // Re-serializing the body changes the signature: the helper never does.
    const reparsed = Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8'))));
    expect(hmac('sha256', SECRET, 'v0:1:', reparsed).toString('hex')).not.toBe(expected);
  });
});

describe('safeEqual', () => {
  it.each([
    ['abc', 'abc', true],
    ['abc', 'abd', false],
    ['abc', 'abcd', false],
    ['', '', false],
    [undefined, 'abc', false],
    ['abc', null, false],
  ])('%j vs %j is %s', (a, b, same) => {
    expect(safeEqual(a, b)).toBe(same);
  });

  it('compares buffers and text as the same bytes', () => {
    expect(safeEqual(Buffer.from('é'), 'é')).toBe(true);
  });
});

describe('verifyHs256Jwt', () => {
  const exp = Math.floor(NOW.getTime() / 1000) + 60;

  it('accepts a token signed with the secret and returns its claims', async () => {
    const verdict = await verifyHs256Jwt(await jwt({ exp, iss: 'x' }), SECRET, { now: NOW });
    expect(verdict).toEqual({ ok: true, claims: { exp, iss: 'x' } });
  });

  it.each([
    ['another secret', async () => jwt({ exp }, 'HS256', 'other-secret-0123456789')],
    ['no exp', async () => jwt({ iss: 'x' })],
    ['expired', async () => jwt({ exp: exp - 3600 })],
    ['another algorithm', async () => jwt({ exp }, 'HS512')],
    ['alg none', async () => `${b64({ alg: 'none' })}.${b64({ exp })}.`],
    ['garbage', async () => 'not.a.jwt'],
  ])('refuses %s', async (_name, token) => {
    const verdict = await verifyHs256Jwt(await token(), SECRET, { now: NOW });
    expect(verdict.ok).toBe(false);
  });

  it('refuses a missing, oversized or unkeyed token before parsing', async () => {
    expect(await verifyHs256Jwt(undefined, SECRET, { now: NOW })).toEqual({
      ok: false,
      reason: 'no token',
    });
    expect(await verifyHs256Jwt('x'.repeat(9000), SECRET, { now: NOW })).toEqual({
      ok: false,
      reason: 'token too long',
    });
    expect(await verifyHs256Jwt(await jwt({ exp }), '', { now: NOW })).toEqual({
      ok: false,
      reason: 'no secret configured',
    });
  });
});

describe('bearerToken', () => {
  it('reads the token of a Bearer header only', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
