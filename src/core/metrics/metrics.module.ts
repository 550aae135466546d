import {
  Global,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  RequestMethod,
} from '@nestjs/common';
import { ALL_ROUTES, HttpMetricsMiddleware } from './http-metrics.middleware.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';

/**
 * Prometheus metrics: MetricsService (one registry per app) is global so any module can count,
 * GET /metrics exposes it, and a middleware times every HTTP request.
 */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [MetricsService],
  exports: [MetricsService],
})
export class MetricsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // Every path, unmatched ones included, so 404s are counted too.
    consumer
      .apply(HttpMetricsMiddleware)
      .forRoutes({ path: ALL_ROUTES, method: RequestMethod.ALL });
  }
}
