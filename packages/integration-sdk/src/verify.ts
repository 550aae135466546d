import { createHmac, timingSafeEqual } from 'node:crypto';
import { jwtVerify } from 'jose';

/** Bytes or text (UTF-8) as they go into a signature. */
export type SignedPart = Buffer | Uint8Array | string;

/**
 * HMAC over the exact parts, in order, without re-serializing anything: webhook signatures are
 * computed over the raw body bytes (and sometimes a timestamp or the callback URL), and a body
 * parsed and stringified again differs in key order, escapes or whitespace.
 */
export function hmac(
  algorithm: 'sha1' | 'sha256' | 'sha512',
  key: SignedPart,
  ...parts: SignedPart[]
): Buffer {
  const mac = createHmac(algorithm, typeof key === 'string' ? Buffer.from(key, 'utf8') : key);
  for (const part of parts) mac.update(typeof part === 'string' ? Buffer.from(part, 'utf8') : part);
  return mac.digest();
}

/**
 * Constant-time equality of two secrets or signatures (as text, compared as UTF-8 bytes). A
 * missing value or one of another length is unequal; the length is not secret, the content is.
 */
export function safeEqual(
  given: SignedPart | null | undefined,
  expected: SignedPart | null | undefined,
): boolean {
  if (given == null || expected == null) return false;
  const a = typeof given === 'string' ? Buffer.from(given, 'utf8') : Buffer.from(given);
  const b = typeof expected === 'string' ? Buffer.from(expected, 'utf8') : Buffer.from(expected);
  if (a.length === 0 || a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

export interface Hs256Options {
  /** The service clock, so tests can move time. */
  now: Date;
  /** Seconds of clock skew accepted on exp/nbf/iat. */
  clockToleranceSeconds?: number;
  /** Claims that must be present (an absent `exp` would make the token valid forever). */
  requiredClaims?: string[];
  /** Longest token accepted (checked before any parsing). Default 8 KiB. */
  maxLength?: number;
}

export type JwtVerdict =
  { ok: true; claims: Record<string, unknown> } | { ok: false; reason: string };

/**
 * Verifies a JWT signed with a shared secret (HS256 only: `none` and keys of another kind cannot
 * pass), with `jose`. Returns a verdict instead of throwing, with jose's error code as the reason.
 */
export async function verifyHs256Jwt(
  token: string | undefined,
  secret: string,
  options: Hs256Options,
): Promise<JwtVerdict> {
  if (!token) return { ok: false, reason: 'no token' };
  if (token.length > (options.maxLength ?? 8192)) return { ok: false, reason: 'token too long' };
  if (!secret) return { ok: false, reason: 'no secret configured' };
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: ['HS256'],
      clockTolerance: options.clockToleranceSeconds ?? 0,
      requiredClaims: options.requiredClaims ?? ['exp'],
      currentDate: options.now,
    });
    return { ok: true, claims: payload };
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    return { ok: false, reason: `jwt refused: ${typeof code === 'string' ? code : 'invalid'}` };
  }
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
}
