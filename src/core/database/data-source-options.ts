import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from './migrations.js';
import { QueryLogger } from './query-logger.js';

export type EntityList = NonNullable<DataSourceOptions['entities']>;

/** Postgres statement_timeout when DATABASE_STATEMENT_TIMEOUT_MS is not set. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

/**
 * One definition of the connection, used by the app, the migration CLI and the tests. The
 * entities come from the caller (the app assembles them from its modules: app.entities.ts).
 *
 * Every pooled connection starts with `statement_timeout` (0 = none) and the same
 * `idle_in_transaction_session_timeout`: a statement waiting on a lock (a transaction-scoped
 * advisory lock of the items feed, a row lock) or running away is cancelled, and a session that
 * keeps a transaction open without sending anything (a hung process) is ended, which releases
 * its locks. Migrations run without either (run-migrations.ts).
 */
export function buildDataSourceOptions(
  url: string,
  entities: EntityList,
  poolSize = 10,
  statementTimeoutMs = DEFAULT_STATEMENT_TIMEOUT_MS,
): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    logging: ['error', 'warn', 'migration'],
    // Through Nest's logger (pino), never printing a failing statement's parameters.
    logger: new QueryLogger(),
    extra: {
      max: poolSize,
      // Fail fast instead of hanging requests when Postgres is away; readiness reports it.
      connectionTimeoutMillis: 5_000,
      application_name: 'pdeck-integrations',
      // node-postgres sends these in the startup packet; 0 (or unset) leaves Postgres's default.
      statement_timeout: statementTimeoutMs,
      idle_in_transaction_session_timeout: statementTimeoutMs,
    },
  };
}
