import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';

/**
 * Content-Security-Policy for a JSON API that also serves Swagger UI at /docs. Swagger UI's
 * scripts (bundle, preset, init) are same-origin files, so scripts need only 'self'; its page has
 * inline <style> blocks and React sets inline styles, hence 'unsafe-inline' for styles; its icons
 * are data: URIs. Everything else is same-origin or nothing.
 */
export const CONTENT_SECURITY_POLICY = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    baseUri: ["'self'"],
    connectSrc: ["'self'"],
    fontSrc: ["'self'", 'data:'],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    imgSrc: ["'self'", 'data:'],
    objectSrc: ["'none'"],
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
  },
};

/**
 * The queue dashboard (Bull Board, /admin/queues, operator console): a React app whose scripts,
 * styles, images and translations are files it bundles, served from this service. Its loading
 * screen and React set inline styles, hence 'unsafe-inline' for styles only; no script is inline
 * and nothing is loaded from another origin (the template's web-font link is removed, see
 * src/admin/admin-queues.ts). Set only under /admin/queues.
 */
export const QUEUE_DASHBOARD_CONTENT_SECURITY_POLICY = {
  ...CONTENT_SECURITY_POLICY,
  directives: { ...CONTENT_SECURITY_POLICY.directives, workerSrc: ["'none'"] },
};

const QUEUE_DASHBOARD_PATH = '/admin/queues';

/**
 * Security headers and Express settings for the HTTP app. No upgrade-insecure-requests: TLS ends
 * at the proxy, and the directive would break /docs over plain http://localhost in development.
 */
export function applyHttpSecurity(app: NestExpressApplication): void {
  const api = helmet({ contentSecurityPolicy: CONTENT_SECURITY_POLICY });
  const dashboard = helmet({ contentSecurityPolicy: QUEUE_DASHBOARD_CONTENT_SECURITY_POLICY });
  app.use((req: Request, res: Response, next: NextFunction) =>
    req.path === QUEUE_DASHBOARD_PATH || req.path.startsWith(`${QUEUE_DASHBOARD_PATH}/`)
      ? dashboard(req, res, next)
      : api(req, res, next),
  );
  app.disable('x-powered-by');
  // Only a proxy on the same host may set X-Forwarded-*; req.ip and req.protocol trust nothing else.
  app.set('trust proxy', 'loopback');
}
