import type { Redis } from 'ioredis';
import type { Cluster } from './cluster.js';

/** One place where a secret was found: `where` names the log line, Redis key or table row. */
export interface LeakFinding {
  /** The secret, shortened so a failing test does not print a whole credential. */
  secret: string;
  where: string;
}

export interface LeakScanResult {
  findings: LeakFinding[];
  /** How many texts were searched, per kind (for the `[figures]` line). */
  scanned: { logLines: number; redisKeys: number; dbRows: number; dbTables: number; extra: number };
  secrets: number;
}

interface Place {
  where: string;
  text: string;
}

/** Something that can list the secrets it handed out (the sandbox fakes). */
export interface SecretIssuer {
  issuedSecrets(): string[];
}

/** The distinct, non-empty secrets of every issuer plus any extra ones (tokens, keys). */
export function collectSecrets(issuers: SecretIssuer[], extra: string[] = []): string[] {
  const all = [...issuers.flatMap((i) => i.issuedSecrets()), ...extra];
  return [...new Set(all.filter((s) => s.length > 0))];
}

/**
 * Searches every trace the cluster left for each literal secret (and its URL-encoded form, as it
 * would look in a logged query string): every line every service process wrote, every key and
 * value in Redis (BullMQ jobs are hashes, events are streams), every row of every table in the
 * public schema of Postgres as text, and `extraTexts` (API response bodies the test recorded).
 * A test asserts `findings` is empty.
 */
export async function scanForSecrets(
  cluster: Cluster,
  secrets: string[],
  extraTexts: string[] = [],
): Promise<LeakScanResult> {
  const logs: Place[] = cluster.processes.flatMap((p) =>
    p.lines.map((text, i) => ({ where: `log ${p.name} line ${i + 1}`, text })),
  );
  const redis = await redisPlaces(cluster);
  const db = await postgresPlaces(cluster);
  const extra = extraTexts.map((text, i) => ({ where: `recorded response #${i + 1}`, text }));
  const places = [...logs, ...redis.places, ...db.places, ...extra];

  const findings: LeakFinding[] = [];
  for (const secret of secrets) {
    const forms = [...new Set([secret, encodeURIComponent(secret)])];
    for (const place of places) {
      if (forms.some((form) => place.text.includes(form)))
        findings.push({ secret: `${secret.slice(0, 12)}…`, where: place.where });
    }
  }
  return {
    findings,
    scanned: {
      logLines: logs.length,
      redisKeys: redis.keys,
      dbRows: db.places.length,
      dbTables: db.tables,
      extra: extra.length,
    },
    secrets: secrets.length,
  };
}

/**
 * Every key of the cluster's Redis (SCAN, so no KEYS on a large keyspace), with its values. On a
 * Redis Cluster, every running master is scanned (each holds its own slots).
 */
async function redisPlaces(cluster: Cluster): Promise<{ places: Place[]; keys: number }> {
  const clients = cluster.redisCluster
    ? await cluster.redisCluster.masterClients()
    : [cluster.redis.client()];
  try {
    const places: Place[] = [];
    let keys = 0;
    for (const redis of clients) {
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'COUNT', 500);
        cursor = next;
        for (const key of batch) {
          keys += 1;
          const values = await readKey(redis, key);
          places.push({ where: `redis ${key}`, text: [key, ...values].join('\n') });
        }
      } while (cursor !== '0');
    }
    return { places, keys };
  } finally {
    for (const redis of clients) redis.disconnect();
  }
}

/** The key's content as strings, for each Redis type (hash fields and names included). */
export async function readKey(redis: Redis, key: string): Promise<string[]> {
  const type = await redis.type(key);
  switch (type) {
    case 'string':
      return [(await redis.get(key)) ?? ''];
    case 'hash':
      return Object.entries(await redis.hgetall(key)).flat();
    case 'list':
      return redis.lrange(key, 0, -1);
    case 'set':
      return redis.smembers(key);
    case 'zset':
      return redis.zrange(key, 0, -1);
    case 'stream':
      return (await redis.xrange(key, '-', '+')).flatMap(([id, fields]) => [id, ...fields]);
    case 'none':
      return []; // expired between SCAN and TYPE
    default:
      throw new Error(`leak scan cannot read Redis key ${key} of type ${type}`);
  }
}

/** Each row of each table in the public schema, as Postgres prints the whole row. */
async function postgresPlaces(cluster: Cluster): Promise<{ places: Place[]; tables: number }> {
  const client = await cluster.pg.client();
  try {
    const { rows: tables } = await client.query<{ name: string }>(
      "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    );
    const places: Place[] = [];
    for (const { name } of tables) {
      const quoted = `"${name.replace(/"/g, '""')}"`;
      const { rows } = await client.query<{ row: string }>(
        `SELECT t::text AS row FROM ${quoted} t`,
      );
      rows.forEach((r, i) => places.push({ where: `postgres ${name} row ${i + 1}`, text: r.row }));
    }
    return { places, tables: tables.length };
  } finally {
    await client.end();
  }
}
