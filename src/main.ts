import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { createHttpApp, createWorkerContext } from './app.factory.js';
import { ConfigError, loadConfigFromProcessEnv } from './core/config/load-config.js';
import {
  startWorkerHealthServer,
  type WorkerHealthServer,
} from './core/health/worker-health-server.js';
import { prepareRuntime } from './core/runtime/prepare-runtime.js';
import { credentialsEnvOf, INTEGRATIONS } from './providers/integrations.js';
import { type LoadedPlugin, loadIntegrationPlugins } from './providers/plugin-loader.js';

async function main(): Promise<void> {
  let config;
  let plugins: LoadedPlugin[];
  try {
    // Plugins first: their catalogs name credentials variables that configuration then reads.
    plugins = await loadIntegrationPlugins(process.env.INTEGRATION_PLUGINS);
    config = loadConfigFromProcessEnv(
      credentialsEnvOf([...INTEGRATIONS, ...plugins.map((p) => p.provider)]),
    );
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const runtime = await prepareRuntime(config);
  let app: INestApplicationContext;
  let health: WorkerHealthServer | undefined;
  if (config.role === 'worker') {
    app = await createWorkerContext(runtime.config, { plugins });
    await app.init();
    // /health/live, /health/ready and /metrics on WORKER_HEALTH_PORT (a port in use stops it).
    health = await startWorkerHealthServer(app, runtime.config).catch(async (error: unknown) => {
      await app.close();
      await runtime.stop();
      throw error;
    });
    console.log(
      `PDeck Integrations (ROLE=worker) ready: processing the sync, webhook and event queues${health ? `; health and metrics on port ${health.port}` : ''}`,
    );
  } else {
    const http = await createHttpApp(runtime.config, { plugins });
    await http.listen(config.port);
    app = http;
    console.log(
      `PDeck Integrations (ROLE=${config.role}) listening on ${runtime.config.publicUrl}: API docs at ${runtime.config.publicUrl}/docs`,
    );
  }

  // Graceful shutdown: stop taking HTTP requests, let active jobs finish, close pools, then stop
  // whatever the runtime started (embedded Postgres, development Redis).
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    console.log(`${signal} received: shutting down gracefully`);
    const force = setTimeout(() => process.exit(1), 60_000).unref();
    try {
      await app.close();
      await health?.close();
      await runtime.stop();
    } finally {
      clearTimeout(force);
      process.exit(0);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
