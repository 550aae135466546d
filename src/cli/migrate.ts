import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { DataSource } from 'typeorm';
import pg from 'pg';
import { ConfigError, loadConfigFromProcessEnv } from '../core/config/load-config.js';
import { appDataSourceOptions } from '../app.entities.js';
import { runMigrationsLocked } from '../core/database/run-migrations.js';
import { resolveDatabaseUrl } from '../core/runtime/prepare-runtime.js';
import { EmbeddedPostgresError } from '../core/database/embedded-postgres.error.js';

/**
 * `migrate run`: apply pending migrations (same advisory lock as startup).
 * `migrate check`: apply all migrations to a scratch database and fail when the entities still
 *   differ from the schema (the equivalent of `typeorm migration:generate --check`).
 * `migrate generate <Name>`: write a migration for that difference into src/core/database/migrations.
 */
async function main(): Promise<void> {
  const [command, name] = process.argv.slice(2);
  // Only Postgres is used: DATABASE_URL without NODE_ENV (production) needs nothing else.
  const config = loadConfigFromProcessEnv([], { service: false });
  const { url, stop } = await resolveDatabaseUrl(config);
  try {
    if (command === 'run') {
      const ds = await new DataSource(appDataSourceOptions(url, 2)).initialize();
      const applied = await runMigrationsLocked(ds);
      console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'No pending migrations.');
      await ds.destroy();
    } else if (command === 'check' || command === 'generate') {
      const { up, down } = await diffAgainstScratch(url);
      if (command === 'check') {
        if (up.length) {
          console.error(`Schema drift: entities differ from migrations:\n${up.join(';\n')};`);
          process.exitCode = 1;
        } else console.log('No schema drift: migrations match the entities.');
      } else {
        if (!name || !/^[A-Za-z][A-Za-z0-9]*$/.test(name))
          throw new Error('usage: migrate generate <PascalName>');
        if (!up.length) return console.log('Nothing to generate.');
        await writeMigration(name, up, down);
      }
    } else {
      throw new Error('usage: migrate run | check | generate <Name>');
    }
  } finally {
    await stop();
  }
}

async function diffAgainstScratch(url: string): Promise<{ up: string[]; down: string[] }> {
  const scratch = `pdeck_migcheck_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${scratch}`);
  const scratchUrl = new URL(url);
  scratchUrl.pathname = `/${scratch}`;
  const ds = new DataSource(appDataSourceOptions(scratchUrl.toString(), 2));
  try {
    await ds.initialize();
    await runMigrationsLocked(ds);
    const sql = await ds.driver.createSchemaBuilder().log();
    return {
      up: sql.upQueries.map((q) => q.query),
      down: sql.downQueries.map((q) => q.query).reverse(),
    };
  } finally {
    if (ds.isInitialized) await ds.destroy();
    await admin.query(`DROP DATABASE IF EXISTS ${scratch}`);
    await admin.end();
  }
}

async function writeMigration(name: string, up: string[], down: string[]): Promise<void> {
  const ts = Date.now();
  const file = `src/core/database/migrations/${ts}-${name.replace(/[A-Z]/g, (c, i) => (i ? '-' : '') + c.toLowerCase())}.ts`;
  const lines = (qs: string[]) =>
    qs.map((q) => `    await queryRunner.query(${JSON.stringify(q)});`).join('\n');
  await writeFile(
    file,
    `import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ${name}${ts} implements MigrationInterface {
  name = '${name}${ts}';

  async up(queryRunner: QueryRunner): Promise<void> {
${lines(up)}
  }

  async down(queryRunner: QueryRunner): Promise<void> {
${lines(down)}
  }
}
`,
  );
  console.log(`Wrote ${file}; add it to src/core/database/migrations.ts.`);
}

main().catch((error: unknown) => {
  // Expected failures print their one-line message; anything else is a bug worth its stack.
  const expected = error instanceof ConfigError || error instanceof EmbeddedPostgresError;
  console.error(expected ? error.message : error);
  process.exit(1);
});
