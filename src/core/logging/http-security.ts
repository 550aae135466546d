import type { NestExpressApplication } from '@nestjs/platform-express';
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
 * Security headers and Express settings for the HTTP app. No upgrade-insecure-requests: TLS ends
 * at the proxy, and the directive would break /docs over plain http://localhost in development.
 */
export function applyHttpSecurity(app: NestExpressApplication): void {
  app.use(helmet({ contentSecurityPolicy: CONTENT_SECURITY_POLICY }));
  app.disable('x-powered-by');
  // Only a proxy on the same host may set X-Forwarded-*; req.ip and req.protocol trust nothing else.
  app.set('trust proxy', 'loopback');
}
