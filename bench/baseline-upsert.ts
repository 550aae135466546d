import type pg from 'pg';

/**
 * P1's baseline: the same normalized rows the sync wrote, upserted with plain `pg` into a scratch
 * table of exactly the shape of `items` (`LIKE items INCLUDING ALL`: same columns, defaults,
 * primary key, unique key and secondary indexes), in batches of the sync's page size, one
 * `INSERT ... SELECT * FROM unnest(...) ON CONFLICT DO UPDATE` per batch, each batch its own
 * (auto-committed) transaction. No HTTP, no JSON parsing, no queue, no ORM: the ceiling the sync
 * job is compared with.
 */

export const BASELINE_BATCH = 2_500;

/** One normalized item as a JS object, the shape the provider mapper hands to the repository. */
interface Row {
  kind: string;
  externalId: string;
  containerId: string | null;
  containerName: string | null;
  title: string | null;
  body: string | null;
  status: string | null;
  startsAt: string | null;
  endsAt: string | null;
  allDay: boolean;
  dueAt: string | null;
  url: string | null;
  assignees: string[];
  labels: string[];
  externalUpdatedAt: string | null;
  externalVersion: string;
  raw: unknown;
}

const READ_SQL = `SELECT kind, external_id AS "externalId", container_id AS "containerId",
  container_name AS "containerName", title, body, status, starts_at AS "startsAt",
  ends_at AS "endsAt", all_day AS "allDay", due_at AS "dueAt", url, assignees, labels,
  external_updated_at AS "externalUpdatedAt", external_version AS "externalVersion", raw
FROM items WHERE connection_id = $1 ORDER BY change_seq`;

// text[] columns travel as one Postgres array literal per row ('{"a","b"}') cast per row: the
// 2-D array problem of unnest() never arises, and the cast is cheaper than JSON expansion.
const UPSERT_SQL = `
INSERT INTO bench_items AS i (id, user_id, connection_id, provider, kind, external_id,
  container_id, container_name, title, body, status, starts_at, ends_at, all_day, due_at, url,
  assignees, labels, external_updated_at, external_version, raw, seen_generation, change_seq)
SELECT gen_random_uuid(), $1, $2, $3, t.kind, t.ext, t.cid, t.cname, t.title, t.body, t.status,
  t.sa, t.ea, t.ad, t.da, t.url, t.a::text[], t.l::text[], t.eu, t.v, t.raw, 1,
  nextval('bench_items_change_seq')
FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
  $11::timestamptz[], $12::timestamptz[], $13::bool[], $14::timestamptz[], $15::text[],
  $16::text[], $17::text[], $18::timestamptz[], $19::text[], $20::jsonb[])
  AS t(kind, ext, cid, cname, title, body, status, sa, ea, ad, da, url, a, l, eu, v, raw)
ON CONFLICT (connection_id, kind, external_id) DO UPDATE SET
  container_id = EXCLUDED.container_id, container_name = EXCLUDED.container_name,
  title = EXCLUDED.title, body = EXCLUDED.body, status = EXCLUDED.status,
  starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at, all_day = EXCLUDED.all_day,
  due_at = EXCLUDED.due_at, url = EXCLUDED.url, assignees = EXCLUDED.assignees,
  labels = EXCLUDED.labels, external_updated_at = EXCLUDED.external_updated_at,
  external_version = EXCLUDED.external_version, raw = EXCLUDED.raw,
  seen_generation = EXCLUDED.seen_generation, change_seq = EXCLUDED.change_seq,
  deleted_at = NULL, updated_at = now()
WHERE i.external_version COLLATE "C" < EXCLUDED.external_version COLLATE "C"`;

/** A Postgres array literal of strings: every element quoted, `"` and `\` escaped. */
function arrayLiteral(values: string[]): string {
  return `{${values.map((v) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

const iso = (d: Date | string | null) => (d instanceof Date ? d.toISOString() : d);

/** Reads what the sync wrote for `connectionId`, as the normalized JS objects it started from. */
export async function normalizedRows(client: pg.Client, connectionId: string): Promise<Row[]> {
  const { rows } = await client.query<Row>(READ_SQL, [connectionId]);
  return rows.map((r) => ({
    ...r,
    startsAt: iso(r.startsAt),
    endsAt: iso(r.endsAt),
    dueAt: iso(r.dueAt),
    externalUpdatedAt: iso(r.externalUpdatedAt),
  }));
}

function params(page: Row[], connectionId: string): unknown[] {
  const col = <T>(f: (r: Row) => T) => page.map(f);
  return [
    'user-baseline',
    connectionId,
    'google-calendar',
    col((r) => r.kind),
    col((r) => r.externalId),
    col((r) => r.containerId),
    col((r) => r.containerName),
    col((r) => r.title),
    col((r) => r.body),
    col((r) => r.status),
    col((r) => r.startsAt),
    col((r) => r.endsAt),
    col((r) => r.allDay),
    col((r) => r.dueAt),
    col((r) => r.url),
    col((r) => arrayLiteral(r.assignees)),
    col((r) => arrayLiteral(r.labels)),
    col((r) => r.externalUpdatedAt),
    col((r) => r.externalVersion),
    col((r) => JSON.stringify(r.raw)),
  ];
}

export interface BaselineResult {
  rows: number;
  ms: number;
  rowsPerSecond: number;
  /** Index names of items and of the scratch table, to show they match. */
  itemsIndexes: number;
  scratchIndexes: number;
}

/**
 * Times the raw upsert of `rows` (already in memory: the sync's provider read is the part it
 * does not get). Building the parameters from JS objects is inside the timing, as it is for the
 * service. The scratch table is dropped afterwards.
 */
export async function runBaseline(
  client: pg.Client,
  rows: Row[],
  connectionId: string,
): Promise<BaselineResult> {
  await client.query('DROP TABLE IF EXISTS bench_items');
  await client.query('CREATE TABLE bench_items (LIKE items INCLUDING ALL)');
  await client.query('CREATE SEQUENCE IF NOT EXISTS bench_items_change_seq AS bigint');
  const indexCount = async (table: string) =>
    (
      await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = $1',
        [table],
      )
    ).rows[0].n;
  const [itemsIndexes, scratchIndexes] = [
    await indexCount('items'),
    await indexCount('bench_items'),
  ];
  if (itemsIndexes !== scratchIndexes) throw new Error('scratch table lacks an index of items');
  const started = performance.now();
  for (let at = 0; at < rows.length; at += BASELINE_BATCH) {
    await client.query(UPSERT_SQL, params(rows.slice(at, at + BASELINE_BATCH), connectionId));
  }
  const ms = performance.now() - started;
  const [{ n }] = (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM bench_items'))
    .rows;
  if (n !== rows.length) throw new Error(`baseline wrote ${n} rows of ${rows.length}`);
  await client.query('DROP TABLE bench_items');
  await client.query('DROP SEQUENCE bench_items_change_seq');
  return {
    rows: rows.length,
    ms,
    rowsPerSecond: (rows.length / ms) * 1000,
    itemsIndexes,
    scratchIndexes,
  };
}
