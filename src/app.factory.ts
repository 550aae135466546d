import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule, type AppModuleOptions } from './app.module.js';
import type { ResolvedAppConfig } from './core/config/app-config.js';
import { applyHttpSecurity } from './core/logging/http-security.js';
import { QueueUnavailableFilter } from './core/queue/queue-unavailable.filter.js';
import { setupSwagger } from './core/swagger/setup-swagger.js';
import { BoundedValidationPipe } from './core/validation/input-limits.js';

/** Body limit for every JSON/form route, webhooks included: larger bodies get 413. */
export const BODY_LIMIT = '1mb';

/** The HTTP application (ROLE=api or all), fully configured but not listening. */
export async function createHttpApp(
  config: ResolvedAppConfig,
  options: AppModuleOptions = {},
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, options), {
    bufferLogs: true,
    // Keeps the exact bytes for webhook signature checks (req.rawBody).
    rawBody: true,
    bodyParser: true,
  });
  app.useLogger(app.get(Logger));
  // Which proxies may name the client (X-Forwarded-For) for req.ip, hence for rate limits.
  app.set('trust proxy', config.trustProxy);
  app.useBodyParser('json', { limit: BODY_LIMIT });
  app.useBodyParser('urlencoded', { limit: BODY_LIMIT, extended: false });
  applyHttpSecurity(app);
  app.useGlobalFilters(new QueueUnavailableFilter());
  app.useGlobalPipes(
    new BoundedValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
  );
  setupSwagger(app, config);
  return app;
}

/** A worker process (ROLE=worker): queues and processors only, no HTTP server. */
export async function createWorkerContext(
  config: ResolvedAppConfig,
  options: AppModuleOptions = {},
): Promise<INestApplicationContext> {
  const context = await NestFactory.createApplicationContext(AppModule.forRoot(config, options), {
    bufferLogs: true,
  });
  context.useLogger(context.get(Logger));
  return context;
}
