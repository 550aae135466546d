import type { DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities.js';
import { MIGRATIONS } from './migrations.js';

/** One definition of the connection, used by the app, the migration CLI and the tests. */
export function buildDataSourceOptions(url: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    logging: ['error', 'migration'],
    extra: {
      max: poolSize,
      // Fail fast instead of hanging requests when Postgres is away; readiness reports it.
      connectionTimeoutMillis: 5_000,
      application_name: 'pdeck-integrations',
    },
  };
}
