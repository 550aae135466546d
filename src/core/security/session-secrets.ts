import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The secrets of the browser sessions (operator console, Connect UI): random tokens for cookies,
 * links and CSRF, and the digests they are stored under, so Redis never holds a usable value.
 */

/** 32 random bytes in base64url: the shape of every token newToken() makes. */
export const SESSION_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A new random token (256 bits) for a session cookie, a one-time link or a CSRF token. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 digest in base64url: the Redis key part for a token that must not be stored. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** Constant-time comparison of a submitted CSRF token with the session's. */
export function csrfMatches(session: { csrf: string }, submitted: unknown): boolean {
  if (typeof submitted !== 'string' || submitted.length !== session.csrf.length) return false;
  return timingSafeEqual(Buffer.from(submitted), Buffer.from(session.csrf));
}
