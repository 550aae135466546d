import type { Request, Response } from 'express';

export const ADMIN_COOKIE = 'pdeck_admin';
/** The cookie goes to the console's routes only, never to the API, /connect or the callbacks. */
export const ADMIN_COOKIE_PATH = '/admin';

/**
 * Headers of every console page (Bull Board under /admin/queues has its own CSP, see
 * core/logging/http-security.ts): no script at all, the one stylesheet of this module, inline
 * SVG charts (no style attributes), forms to ourselves only, never framed, never cached (the
 * pages carry the CSRF token).
 */
const ADMIN_CSP = [
  "default-src 'self'",
  "base-uri 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'none'",
  "style-src 'self'",
].join('; ');

export function applyAdminHeaders(res: Response): void {
  res.setHeader('content-security-policy', ADMIN_CSP);
  res.setHeader('cache-control', 'no-store');
}

/** The console's cookie from the Cookie header (no cookie-parser dependency). */
export function adminCookieOf(req: Request): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === ADMIN_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** HttpOnly, SameSite=Strict (no cross-site request carries it), Path=/admin, Secure on https. */
export function adminCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${ADMIN_COOKIE}=${value}`,
    `Path=${ADMIN_COOKIE_PATH}`,
    `Max-Age=${maxAgeSeconds}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

export function formField(req: Request, name: string): string | undefined {
  const body = req.body as Record<string, unknown> | undefined;
  const value = body && typeof body === 'object' ? body[name] : undefined;
  return typeof value === 'string' ? value : undefined;
}
