import type { ObjectLiteral, Repository } from 'typeorm';

/**
 * `SELECT <every column AS its property> FROM <table>` for an entity, built once from TypeORM's
 * metadata. For reads on hot paths (each sync and each sync request reads its connection and its
 * resource states): `find*` builds and parses its query anew on every call, which a profile of
 * `npm run bench` showed as several percent of a no-change sync. pg already returns the types the
 * entities declare (jsonb parsed, timestamptz as Date, text[] as arrays, bigint as string).
 */
export function entitySelect(repo: Repository<ObjectLiteral>): string {
  const { columns, tablePath } = repo.metadata;
  const list = columns.map((c) => `"${c.databaseName}" AS "${c.propertyName}"`).join(', ');
  return `SELECT ${list} FROM "${tablePath}"`;
}

/** Rows of an entitySelect query as entity instances (what `find*` would have returned). */
export function asEntities<T extends ObjectLiteral>(repo: Repository<T>, rows: object[]): T[] {
  return rows.map((row) => repo.create(row as T));
}
