import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ItemsRepository } from '../../src/items/items.repository.js';
import type { NormalizedItem } from '@pdeck/integration-sdk';
import {
  makeItem,
  openMigratedDatabase,
  storeConnections,
  type MigratedDatabase,
} from '../support/items-fixtures.js';

/**
 * Local measurement, not a benchmark (that is P1 in `npm run bench`): upsertPage against a raw
 * baseline in the spirit of bench/baseline-upsert.ts, an `INSERT ... SELECT unnest(...) ON
 * CONFLICT DO UPDATE` over typed arrays sent with plain pg. Prints rows/s; asserts only
 * correctness, never timing.
 * ITEMS_THROUGHPUT_ROWS=100000 npx vitest run test/medium/items-throughput.test.ts
 */
const ROWS = Number(process.env.ITEMS_THROUGHPUT_ROWS ?? 10_000);
const PAGE = 2_500;

const BASELINE_SQL = `
INSERT INTO items (id, user_id, connection_id, provider, kind, external_id, container_id,
  container_name, title, body, status, starts_at, ends_at, all_day, due_at, url, assignees, labels,
  external_updated_at, external_version, raw, change_seq)
SELECT gen_random_uuid(), $1, $2, $3, t.kind, t.ext, t.cid, t.cname, t.title, t.body, t.status,
  t.sa, t.ea, t.ad, t.da, t.url, ARRAY(SELECT json_array_elements_text(t.a::json)),
  ARRAY(SELECT json_array_elements_text(t.l::json)), t.eu, t.v, t.raw, nextval('items_change_seq')
FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
  $11::timestamptz[], $12::timestamptz[], $13::bool[], $14::timestamptz[], $15::text[],
  $16::text[], $17::text[], $18::timestamptz[], $19::text[], $20::jsonb[])
  AS t(kind, ext, cid, cname, title, body, status, sa, ea, ad, da, url, a, l, eu, v, raw)
ON CONFLICT (connection_id, kind, external_id) DO UPDATE SET title = EXCLUDED.title,
  body = EXCLUDED.body, status = EXCLUDED.status, starts_at = EXCLUDED.starts_at,
  ends_at = EXCLUDED.ends_at, assignees = EXCLUDED.assignees, labels = EXCLUDED.labels,
  external_version = EXCLUDED.external_version, raw = EXCLUDED.raw,
  change_seq = EXCLUDED.change_seq, updated_at = now()`;

function baselineParams(page: NormalizedItem[], connectionId: string): unknown[] {
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  const col = <T>(f: (i: NormalizedItem) => T) => page.map(f);
  return [
    'user-bench',
    connectionId,
    'google-calendar',
    col((i) => i.kind),
    col((i) => i.externalId),
    col((i) => i.containerId),
    col((i) => i.containerName),
    col((i) => i.title),
    col((i) => i.body),
    col((i) => i.status),
    col((i) => iso(i.startsAt)),
    col((i) => iso(i.endsAt)),
    col((i) => i.allDay),
    col((i) => iso(i.dueAt)),
    col((i) => i.url),
    col((i) => JSON.stringify(i.assignees)),
    col((i) => JSON.stringify(i.labels)),
    col((i) => iso(i.externalUpdatedAt)),
    col((i) => i.externalVersion),
    col((i) => JSON.stringify(i.raw)),
  ];
}

/** A Google Calendar event's worth of raw payload (~1 KB), as the provider would store it. */
function syntheticItems(count: number): NormalizedItem[] {
  return Array.from({ length: count }, (_, n) => {
    const item = makeItem(n, { assignees: [`a${n}@example.com`, `b${n}@example.com`] });
    item.raw = {
      kind: 'calendar#event',
      etag: `"${n}"`,
      id: `evt-${n}`,
      status: 'confirmed',
      htmlLink: item.url,
      summary: item.title,
      description: 'Agenda: '.repeat(20),
      creator: { email: 'me@example.com', self: true },
      organizer: { email: 'me@example.com' },
      start: { dateTime: item.startsAt?.toISOString(), timeZone: 'Europe/Paris' },
      end: { dateTime: item.endsAt?.toISOString(), timeZone: 'Europe/Paris' },
      attendees: item.assignees.map((email) => ({ email, responseStatus: 'accepted' })),
      reminders: { useDefault: true },
      sequence: 0,
      iCalUID: `evt-${n}@google.com`,
    };
    return item;
  });
}

describe('items write throughput (measurement, no timing assertion)', () => {
  let db: MigratedDatabase;
  let client: pg.Client;
  const items = syntheticItems(ROWS);

  beforeAll(async () => {
    db = await openMigratedDatabase(inject('databaseUrl'));
    client = new pg.Client({ connectionString: db.database.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await db?.close();
  });

  async function timed(
    label: string,
    run: (connectionId: string) => Promise<void>,
  ): Promise<number> {
    const connectionId = randomUUID();
    await storeConnections(db.dataSource, {
      connectionId,
      userId: 'user-bench',
      provider: 'google-calendar',
    });
    const started = performance.now();
    await run(connectionId);
    const rate = Math.round((ROWS / (performance.now() - started)) * 1000);
    console.log(`${label.padEnd(32)} ${rate} rows/s (${ROWS} rows, pages of ${PAGE})`);
    return rate;
  }

  it('upserts pages through upsertPage and through the raw baseline', async () => {
    const repo = new ItemsRepository(db.dataSource);
    const pages = Array.from({ length: Math.ceil(ROWS / PAGE) }, (_, p) =>
      items.slice(p * PAGE, (p + 1) * PAGE),
    );
    const baseline = (conn: string) =>
      pages.reduce(async (prev, page) => {
        await prev;
        await client.query(BASELINE_SQL, baselineParams(page, conn));
      }, Promise.resolve());
    const viaRepository = (conn: string, generation?: number) =>
      pages.reduce(async (prev, page) => {
        await prev;
        await db.dataSource.transaction((m) =>
          repo.upsertPage(m, {
            userId: 'user-bench',
            connectionId: conn,
            provider: 'google-calendar',
            upserts: page,
            deletions: [],
            generation,
          }),
        );
      }, Promise.resolve());

    // Each run starts from an empty table (P1 is a first full sync); A B B A evens out drift.
    const base: number[] = [];
    const mine: number[] = [];
    for (const which of ['baseline', 'upsertPage', 'upsertPage', 'baseline']) {
      await db.dataSource.query('TRUNCATE items CASCADE');
      if (which === 'baseline') base.push(await timed('baseline unnest insert', baseline));
      else mine.push(await timed('upsertPage insert (generation 1)', (c) => viaRepository(c, 1)));
    }
    console.log(
      `ratio upsertPage/baseline (best of 2 each): ${(Math.max(...mine) / Math.max(...base)).toFixed(2)}`,
    );
    // The last run left ROWS rows of one connection: a second full pass finds them unchanged.
    const [{ connection_id: last }] = await db.dataSource.query<{ connection_id: string }[]>(
      'SELECT connection_id FROM items LIMIT 1',
    );
    await timed('upsertPage unchanged re-pass', () => viaRepository(last, 2));

    const [{ total, seen }] = await db.dataSource.query<{ total: number; seen: number }[]>(
      'SELECT count(*)::int AS total, count(*) FILTER (WHERE seen_generation = 2)::int AS seen FROM items',
    );
    expect(total).toBe(ROWS);
    expect(seen).toBe(ROWS);
  });
});
