import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type ResolvedAppConfig } from '../config/app-config.js';
import { buildDataSourceOptions, type EntityList } from './data-source-options.js';
import { runMigrationsLocked } from './run-migrations.js';

/**
 * Postgres through TypeORM. Migrations run inside the DataSource factory, before anything can
 * inject a repository, under an advisory lock shared by every instance.
 */
@Module({})
export class DatabaseModule {
  static forRoot(entities: EntityList): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: ResolvedAppConfig) =>
            buildDataSourceOptions(
              config.databaseUrl,
              entities,
              config.databasePoolSize,
              config.databaseStatementTimeoutMs,
            ),
          dataSourceFactory: async (options) => {
            const dataSource = await new DataSource(options!).initialize();
            await runMigrationsLocked(dataSource);
            return dataSource;
          },
        }),
      ],
    };
  }
}
