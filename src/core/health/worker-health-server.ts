import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type INestApplicationContext, Logger } from '@nestjs/common';
import { checkRedis, type RedisClient } from '../redis/redis-client.js';
import { DataSource } from 'typeorm';
import type { ResolvedAppConfig } from '../config/app-config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { REDIS } from '../redis/redis.tokens.js';
import { bearerToken, TokenSet } from '../security/internal-api.guard.js';
import { HEALTH_CHECK_TIMEOUT_MS } from './health.controller.js';
import { withTimeout } from '../runtime/with-timeout.js';

export interface WorkerHealthServer {
  /** The port it listens on (WORKER_HEALTH_PORT). */
  readonly port: number;
  close(): Promise<void>;
}

type Check = 'postgres' | 'redis';

/**
 * The HTTP side of a ROLE=worker process, which has no API server: `GET /health/live`,
 * `GET /health/ready` (Postgres and Redis, statuses only: the reasons go to the log) and
 * `GET /metrics` (this process's own Prometheus registry: provider requests, sync runs, webhook
 * processing happen in workers), the last behind an internal API token like the API's /metrics.
 * Plain node:http, no framework: three routes, nothing else answers (404).
 *
 * It listens on every interface, like the API, because orchestrator probes and Prometheus come
 * from outside the process's host or container; only the token-protected /metrics says anything
 * beyond up or down.
 */
export async function startWorkerHealthServer(
  app: INestApplicationContext,
  config: Pick<ResolvedAppConfig, 'workerHealthPort' | 'internalApiTokens'>,
): Promise<WorkerHealthServer | undefined> {
  if (config.workerHealthPort === 0) return undefined;
  const dataSource = app.get(DataSource);
  const redis = app.get<RedisClient>(REDIS);
  const metrics = app.get(MetricsService);
  const tokens = new TokenSet(config.internalApiTokens);
  const logger = new Logger('WorkerHealth');

  const checks: Record<Check, () => Promise<unknown>> = {
    postgres: () => dataSource.query('SELECT 1'),
    redis: () => checkRedis(redis),
  };

  async function ready(res: ServerResponse): Promise<void> {
    const names = Object.keys(checks) as Check[];
    const results = await Promise.allSettled(
      names.map((name) =>
        withTimeout(
          checks[name](),
          HEALTH_CHECK_TIMEOUT_MS,
          () => new Error(`timeout of ${HEALTH_CHECK_TIMEOUT_MS}ms exceeded`),
        ),
      ),
    );
    const info: Record<string, { status: 'up' }> = {};
    const error: Record<string, { status: 'down' }> = {};
    const reasons: Record<string, string> = {};
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') info[names[i]] = { status: 'up' };
      else {
        error[names[i]] = { status: 'down' };
        reasons[names[i]] = (result.reason as Error)?.message ?? String(result.reason);
      }
    });
    const ok = Object.keys(error).length === 0;
    if (!ok) logger.error({ msg: 'readiness check failed', ...reasons });
    json(res, ok ? 200 : 503, {
      status: ok ? 'ok' : 'error',
      info,
      error,
      details: { ...info, ...error },
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 404, NOT_FOUND);
    if (path === '/health/live') return json(res, 200, { status: 'ok' });
    if (path === '/health/ready') return ready(res);
    if (path === '/metrics') {
      if (!tokens.matches(bearerToken(req.headers.authorization))) {
        return json(res, 401, {
          statusCode: 401,
          message: 'A valid internal API bearer token is required',
        });
      }
      const text = await metrics.metrics();
      res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
      res.end(text);
      return;
    }
    json(res, 404, NOT_FOUND);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ msg: 'worker health request failed', error: (err as Error)?.message });
      if (!res.headersSent) json(res, 500, { statusCode: 500, message: 'Internal Server Error' });
      else res.destroy();
    });
  });
  // Probes and scrapes are small: no slow clients holding sockets open.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `The worker health server could not listen on port ${config.workerHealthPort} (WORKER_HEALTH_PORT): ${err.code ?? err.message}`,
        ),
      ),
    );
    server.listen(config.workerHealthPort, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const NOT_FOUND = { statusCode: 404, message: 'Not Found' };

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
