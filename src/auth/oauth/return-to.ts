import { connectError } from './oauth-errors.js';

/**
 * Accepts a returnTo only when its origin is exactly one of RETURN_TO_ORIGINS (scheme, host and
 * port; no prefix or suffix matching), so the callback can never be turned into an open
 * redirect. Returns the normalized URL.
 */
export function checkReturnTo(value: string, allowedOrigins: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw connectError('invalid_return_to', 'returnTo must be an absolute URL.');
  }
  const allowed = new Set(allowedOrigins.map(originOf).filter((o) => o !== undefined));
  const safeScheme = url.protocol === 'https:' || url.protocol === 'http:';
  if (!safeScheme || url.username || url.password || !allowed.has(url.origin)) {
    throw connectError(
      'invalid_return_to',
      'returnTo is not on an allowed origin (RETURN_TO_ORIGINS).',
    );
  }
  return url.toString();
}

/** returnTo with our parameters set (replacing any of the same name the caller put there). */
export function returnToWith(returnTo: string, params: Record<string, string>): string {
  const url = new URL(returnTo);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

function originOf(value: string): string | undefined {
  try {
    const origin = new URL(value).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}
