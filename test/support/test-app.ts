import { randomBytes } from 'node:crypto';
import type { Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { inject } from 'vitest';
import { freePort } from '../harness/ports.js';
import { createHttpApp } from '../../src/app.factory.js';
import type { ResolvedAppConfig } from '../../src/core/config/app-config.js';
import { parseConfig } from '../../src/core/config/load-config.js';
import { credentialsEnvOf, INTEGRATIONS } from '../../src/providers/integrations.js';
import { type LoadedPlugin, loadIntegrationPlugins } from '../../src/providers/plugin-loader.js';
import type { IntegrationProvider } from '@pdeck/integration-sdk';
import { apiHeaders, type ContractApp } from '@pdeck/integration-sdk/testing';
import { DataSource } from 'typeorm';
import { ConnectionStore } from '../../src/auth/connection-store.service.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';
import { flushPrefix } from './test-services.js';

export const TEST_API_TOKEN = 'test-internal-token-0123456789abcdef';

/** The started service; also what the SDK's contract kit needs of it (`ContractApp`). */
export interface TestApp extends ContractApp {
  app: NestExpressApplication;
  config: ResolvedAppConfig;
  database: TestDatabase;
  close(): Promise<void>;
}

/** Headers of an authenticated JSON call to the internal API with the test token. */
export const CONTRACT_AUTH = apiHeaders({ baseUrl: '', apiToken: TEST_API_TOKEN });

/** Configuration for a test: its own database, its own Redis key prefix, a known API token. */
export async function buildTestConfig(
  env: Record<string, string> = {},
  shared?: TestDatabase,
): Promise<{ config: ResolvedAppConfig; database: TestDatabase; plugins: LoadedPlugin[] }> {
  // As in main.ts: plugins named in INTEGRATION_PLUGINS are loaded before configuration.
  const plugins = await loadIntegrationPlugins(env.INTEGRATION_PLUGINS);
  const database = shared ?? (await createTestDatabase(inject('databaseUrl')));
  const config = parseConfig(
    {
      NODE_ENV: 'test',
      PORT: '0',
      REDIS_URL: inject('redisUrl'),
      REDIS_KEY_PREFIX: `t${randomBytes(5).toString('hex')}`,
      INTERNAL_API_TOKENS: TEST_API_TOKEN,
      ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      LOG_LEVEL: 'silent',
      ...env,
    },
    credentialsEnvOf([...INTEGRATIONS, ...plugins.map((p) => p.provider)]),
  );
  return { config: { ...config, databaseUrl: database.url }, database, plugins };
}

/** The real HTTP app, listening on a free loopback port. */
export async function startTestApp(
  options: {
    env?: Record<string, string>;
    integrations?: Type<IntegrationProvider>[];
    port?: number;
    /** Adjusts the config before the app is built (e.g. credentials of a test provider). */
    configure?: (config: ResolvedAppConfig) => void;
    /** Reuse a database (two app instances = two processes sharing Postgres). */
    database?: TestDatabase;
  } = {},
): Promise<TestApp> {
  const port = options.port ?? (await freePort());
  const baseUrl = `http://127.0.0.1:${port}`;
  const { config, database, plugins } = await buildTestConfig(
    {
      PORT: String(port),
      PUBLIC_URL: baseUrl,
      ...options.env,
    },
    options.database,
  );
  options.configure?.(config);
  const app = await createHttpApp(config, {
    integrations: options.integrations ?? [],
    plugins,
  });
  await app.listen(port, '127.0.0.1');
  const store = app.get(ConnectionStore);
  return {
    app,
    baseUrl,
    apiToken: TEST_API_TOKEN,
    db: app.get(DataSource),
    credentials: async (connectionId) => store.credentialsOf(await store.get(connectionId)),
    config,
    database,
    close: async () => {
      await app.close();
      // A shared database and prefix belong to whoever created them.
      if (!options.database) {
        await flushPrefix(config.redisUrl, config.redisKeyPrefix);
        await database.drop();
      }
    },
  };
}

export { freePort };
