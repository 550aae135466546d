import { Queue } from 'bullmq';
import type { Cluster as ClusterClient } from 'ioredis';
import type { Cluster } from '../harness/cluster.js';

/**
 * A log of every real change the service writes to `items` (an insert, or an update that takes
 * a new change_seq), with the item's title and provider version, kept by a trigger the test adds
 * to its own database. A full sync that finds nothing new writes nothing here.
 */
export async function installItemWriteLog(cluster: Cluster): Promise<void> {
  await cluster.pg.query(`
    CREATE TABLE IF NOT EXISTS test_item_writes (
      seq bigserial PRIMARY KEY, item_id uuid NOT NULL, connection_id uuid NOT NULL,
      title text, external_version text NOT NULL, change_seq bigint NOT NULL, op text NOT NULL)`);
  await cluster.pg.query(`
    CREATE OR REPLACE FUNCTION test_log_item_write() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' OR NEW.change_seq IS DISTINCT FROM OLD.change_seq THEN
        INSERT INTO test_item_writes
          (item_id, connection_id, title, external_version, change_seq, op)
        VALUES (NEW.id, NEW.connection_id, NEW.title, NEW.external_version, NEW.change_seq, TG_OP);
      END IF;
      RETURN NEW;
    END $$`);
  await cluster.pg.query(`
    CREATE OR REPLACE TRIGGER test_log_item_write AFTER INSERT OR UPDATE ON items
    FOR EACH ROW EXECUTE FUNCTION test_log_item_write()`);
}

/**
 * Writes that did not move their item to a newer provider version (should be none), as
 * readable lines: the same version written twice (a change applied again) or an older one
 * written after a newer one (a stale sync over a fresh one). An item's writes are logged in
 * commit order: the row lock orders them.
 */
export async function repeatedItemWrites(cluster: Cluster): Promise<string[]> {
  const rows = await cluster.pg.query<{
    item_id: string;
    title: string;
    version: string;
    previous: string;
  }>(
    `SELECT item_id, title, external_version AS version, previous FROM (
       SELECT item_id, title, external_version,
              lag(external_version) OVER (PARTITION BY item_id ORDER BY seq) AS previous
         FROM test_item_writes) w
      WHERE previous IS NOT NULL AND external_version COLLATE "C" <= previous COLLATE "C"
      ORDER BY item_id`,
  );
  return rows.map(
    (r) => `${r.item_id} "${r.title}" written at version ${r.version} after ${r.previous}`,
  );
}

/**
 * The writes of every item named by repeatedItemWrites, in order, with the runs of its
 * connection: what a failure message needs.
 */
export async function repeatedWriteHistory(cluster: Cluster): Promise<unknown> {
  const ids = await cluster.pg.query<{ item_id: string }>(
    `SELECT DISTINCT item_id FROM (
       SELECT item_id, external_version,
              lag(external_version) OVER (PARTITION BY item_id ORDER BY seq) AS previous
         FROM test_item_writes) w
      WHERE previous IS NOT NULL AND external_version COLLATE "C" <= previous COLLATE "C"`,
  );
  const writes = await cluster.pg.query<{ connection_id: string }>(
    'SELECT * FROM test_item_writes WHERE item_id = ANY($1) ORDER BY item_id, seq',
    [ids.map((r) => r.item_id)],
  );
  const connections = [...new Set(writes.map((w) => w.connection_id))];
  const runs = await cluster.pg.query(
    `SELECT id, connection_id, trigger, mode, status, started_at, finished_at, upserted
       FROM sync_runs WHERE connection_id = ANY($1) ORDER BY started_at`,
    [connections],
  );
  return { writes, runs };
}

/** How many real item changes were written, per operation. */
export async function itemWriteCounts(
  cluster: Cluster,
): Promise<{ inserts: number; updates: number }> {
  const [row] = await cluster.pg.query<{ inserts: number; updates: number }>(
    `SELECT count(*) FILTER (WHERE op = 'INSERT')::int AS inserts,
            count(*) FILTER (WHERE op = 'UPDATE')::int AS updates FROM test_item_writes`,
  );
  return row;
}

export const QUEUES = [
  'sync',
  'webhooks',
  'webhook-subscriptions',
  'pdeck-events',
  'sync-retention',
  'webhooks-retention',
  'connection-health',
] as const;

/**
 * Every BullMQ job scheduler of every queue, by queue: `{ queue: [scheduler key, ...] }`. Read
 * through BullMQ itself, on one Redis (`port`) or a cluster client.
 */
export async function jobSchedulers(
  connection: { port: number } | ClusterClient,
): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const name of QUEUES) {
    const queue = new Queue(name, { connection, prefix: '{pdeck}' });
    try {
      out[name] = (await queue.getJobSchedulers(0, -1)).map((s) => s.key);
    } finally {
      await queue.close();
    }
  }
  return out;
}

/** Scheduler keys listed more than once in a queue (should be none). */
export function duplicateSchedulers(schedulers: Record<string, string[]>): string[] {
  return Object.entries(schedulers).flatMap(([queue, keys]) =>
    keys.filter((k, i) => keys.indexOf(k) !== i).map((k) => `${queue}: ${k}`),
  );
}
