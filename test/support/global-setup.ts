import type { TestProject } from 'vitest/node';
import { ensureTestServices } from './test-services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
  }
}

/**
 * Real Postgres and Redis for every tier. Uses TEST_DATABASE_URL / TEST_REDIS_URL (CI sets them)
 * or the usual loopback ports; when nothing answers there, starts an embedded Postgres and a
 * redis-server under .data/test so `npm test` works on a machine with only Node and redis-server.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const services = await ensureTestServices();
  project.provide('databaseUrl', services.databaseUrl);
  project.provide('redisUrl', services.redisUrl);
  return services.stop;
}
