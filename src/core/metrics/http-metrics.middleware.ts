import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { MetricsService } from './metrics.service.js';

/** Label for requests no route matched (404s, static assets): keeps the label set bounded. */
export const UNMATCHED_ROUTE = 'unmatched';

/** The catch-all path this and nestjs-pino's middleware are bound to (Nest 12 path syntax). */
export const ALL_ROUTES = '{/*splat}';

/**
 * The route template (`/connections/:id`), never the concrete path, so ids do not explode the
 * label cardinality. Express sets req.route for each route layer it enters, and Nest binds
 * middleware as catch-all route layers: when no controller route matched, req.route is one of
 * those, so any wildcard template counts as unmatched.
 */
export function routeTemplate(req: Pick<Request, 'route'>): string {
  const path: unknown = req.route?.path;
  return typeof path === 'string' && !path.includes('*') ? path : UNMATCHED_ROUTE;
}

/**
 * Records http_request_duration_seconds for every request. A middleware rather than an
 * interceptor: interceptors run after guards and only for matched routes, so they would miss the
 * global guard's 401s and every 404. The status is read when the response is done, after
 * exception filters have written it. A response the client abandoned is counted as 499.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: MetricsService) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    let recorded = false;
    const record = () => {
      if (recorded) return;
      recorded = true;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.metrics.httpRequestDuration.observe(
        {
          method: req.method,
          route: routeTemplate(req),
          status_code: res.writableFinished ? String(res.statusCode) : '499',
        },
        seconds,
      );
    };
    // 'finish' fires once the response is handed to the OS; 'close' alone means an aborted one.
    res.once('finish', record);
    res.once('close', record);
    next();
  }
}
