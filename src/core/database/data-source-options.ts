import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from './migrations.js';

export type EntityList = NonNullable<DataSourceOptions['entities']>;

/**
 * One definition of the connection, used by the app, the migration CLI and the tests. The
 * entities come from the caller (the app assembles them from its modules: app.entities.ts).
 */
export function buildDataSourceOptions(
  url: string,
  entities: EntityList,
  poolSize = 10,
): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities,
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
