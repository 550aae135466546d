import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long PDeck has to confirm a grant after the user came back from the provider. */
export const CONFIRM_TTL_MS = 10 * 60_000;

/** A one-time confirmation token (32 random bytes, base64url) and the hash we keep of it. */
export function newConfirmToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashConfirmToken(token) };
}

export function hashConfirmToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/** Constant-time comparison of a presented token with the stored hash. */
export function confirmTokenMatches(token: string, storedHash: string | null): boolean {
  if (!storedHash) return false;
  const presented = Buffer.from(hashConfirmToken(token));
  const stored = Buffer.from(storedHash);
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
