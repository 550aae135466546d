import type { Request, Response } from 'express';
import type { ResolvedAppConfig } from '../core/config/app-config.js';
import { OriginMap } from '../providers/http/origin-map.js';
import type { ProviderRegistry } from '../providers/provider-registry.js';

export const SESSION_COOKIE = 'pdeck_connect';
/** The cookie is sent to the Connect UI's routes only, never to the API or the callbacks. */
export const COOKIE_PATH = '/connect';

/**
 * Response headers of every Connect UI page, replacing the API's stricter ones (helmet):
 * - frame-ancestors: PDeck's origins (RETURN_TO_ORIGINS) may frame the page; nobody else.
 * - form-action: our own routes, plus the providers' consent pages, because a Connect form's
 *   POST is answered with a redirect there and browsers check form-action on that redirect.
 * - Cross-Origin-Opener-Policy `unsafe-none`: PDeck opens the page in a popup and must stay its
 *   `window.opener`, the channel the result goes back through (helmet's `same-origin` cuts it).
 * - no-store: pages carry a CSRF token, and /connect/done a one-time confirmation token.
 */
export class ConnectUiHeaders {
  private readonly csp: string;

  constructor(config: ResolvedAppConfig, registry: ProviderRegistry) {
    const origins = new OriginMap(config.providerOrigins);
    const consentOrigins = new Set(
      registry.enabled().map((p) => origins.rewrite(p.catalog.auth.authorizeUrl).origin),
    );
    const ancestors = config.returnToOrigins.length ? config.returnToOrigins : ["'none'"];
    this.csp = [
      "default-src 'self'",
      "base-uri 'self'",
      "connect-src 'self'",
      "font-src 'self'",
      `form-action 'self' ${[...consentOrigins].join(' ')}`.trim(),
      `frame-ancestors ${ancestors.join(' ')}`,
      "img-src 'self' data:",
      "object-src 'none'",
      "script-src 'self'",
      "script-src-attr 'none'",
      "style-src 'self'",
    ].join('; ');
  }

  apply(res: Response): void {
    res.setHeader('content-security-policy', this.csp);
    res.setHeader('cross-origin-opener-policy', 'unsafe-none');
    // frame-ancestors decides framing; X-Frame-Options cannot name another origin.
    res.removeHeader('x-frame-options');
    res.setHeader('cache-control', 'no-store');
  }
}

/** The session cookie's value from the Cookie header (no cookie-parser dependency). */
export function sessionCookieOf(req: Request): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    `Path=${COOKIE_PATH}`,
    `Max-Age=${maxAgeSeconds}`,
    'HttpOnly',
    'SameSite=Lax',
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}
