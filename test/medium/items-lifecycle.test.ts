import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  makeItem,
  newConnection,
  openItemsHarness,
  version,
  type ItemsHarness,
} from '../support/items-fixtures.js';

describe('ItemsRepository sweep, purge and round-trips on real Postgres', () => {
  let h: ItemsHarness;
  const write: ItemsHarness['write'] = (...args) => h.write(...args);
  const rows: ItemsHarness['rows'] = (conn) => h.rows(conn);
  const seq = (r: { change_seq: string } | undefined) => BigInt(r!.change_seq);

  beforeAll(async () => {
    h = await openItemsHarness(inject('databaseUrl'));
  });
  afterAll(async () => {
    await h?.close();
  });

  it('sweeps only the unseen items of the swept container, keeping live writes of the pass', async () => {
    const conn = await h.connection();
    const other = (n: number) =>
      makeItem(n, { externalId: `cal-2/evt-${n}`, containerId: 'cal-2' });
    await write(conn, [makeItem(1), makeItem(2), makeItem(3), makeItem(4), other(5)], [], 1);
    await write(conn, [makeItem(7)]); // live write before the pass: no generation
    const passStartSeq = await h.repo.currentChangeSeq();
    // Full pass 2 lists item 1 unchanged and item 2 changed; a webhook creates item 6 meanwhile.
    const page = await write(
      conn,
      [makeItem(1), makeItem(2, { externalVersion: version(2) })],
      [],
      2,
    );
    expect(page).toMatchObject({ updated: 1, unchanged: 1 });
    await write(conn, [makeItem(6)]);
    const before = await rows(conn);
    expect(before.get('cal-1/evt-1')!.seen_generation).toBe(2);
    expect(before.get('cal-1/evt-1')!.change_seq).not.toBe(page.maxChangeSeq);

    const swept = await h.db.dataSource.transaction((m) =>
      h.repo.sweep(m, {
        connectionId: conn.connectionId,
        containerId: 'cal-1',
        generation: 2,
        passStartSeq,
      }),
    );
    expect(swept.deleted).toBe(3);
    const after = await rows(conn);
    const deleted = [...after.values()]
      .filter((r) => r.deleted_at !== null)
      .map((r) => r.external_id);
    expect(deleted.sort()).toEqual(['cal-1/evt-3', 'cal-1/evt-4', 'cal-1/evt-7']);
    for (const id of deleted) {
      expect(seq(after.get(id))).toBeGreaterThanOrEqual(BigInt(swept.minChangeSeq!));
      expect(seq(after.get(id))).toBeLessThanOrEqual(BigInt(swept.maxChangeSeq!));
    }
    expect(after.get('cal-1/evt-1')!.change_seq).toBe(before.get('cal-1/evt-1')!.change_seq);

    const replay = await h.db.dataSource.transaction((m) =>
      h.repo.sweep(m, { ...conn, containerId: 'cal-1', generation: 2, passStartSeq }),
    );
    expect(replay.deleted).toBe(0);
    // Without the pass start, the webhook's item 6 would go too: that is what the guard is for.
    const unguarded = await h.db.dataSource.transaction((m) =>
      h.repo.sweep(m, { ...conn, containerId: 'cal-1', generation: 2 }),
    );
    expect(unguarded.deleted).toBe(1);
    expect((await rows(conn)).get('cal-1/evt-6')!.deleted_at).toBeInstanceOf(Date);
  });

  it('round-trips assignees, labels and raw exactly', async () => {
    const conn = await h.connection();
    const tricky = [
      'ünïcødé ✓',
      '日本語',
      '🗓️ emoji',
      'quote"',
      'back\\slash',
      'a,b',
      '{braces}',
      'NULL',
      '',
      ' sp ',
    ];
    const raw = {
      nested: { deep: [1, 2.5, { x: null, y: [true, false] }], empty: {}, list: [] },
      text: 'line\nbreak\ttab "q" \\ ü 🎉',
      big: 12345678901234,
    };
    await write(conn, [
      makeItem(1, { assignees: tricky, labels: [], raw }),
      makeItem(2, { assignees: [], labels: tricky.slice(0, 3), raw: [] }),
      makeItem(3, { allDay: true, startsAt: null, endsAt: null, url: null, raw: 'just text' }),
    ]);
    const list = await h.db.dataSource.query<
      {
        external_id: string;
        assignees: string[];
        labels: string[];
        raw: unknown;
        all_day: boolean;
      }[]
    >(
      'SELECT external_id, assignees, labels, raw, all_day FROM items WHERE connection_id = $1 ORDER BY external_id',
      [conn.connectionId],
    );
    expect(list[0]).toMatchObject({ assignees: tricky, labels: [], raw });
    expect(list[1]).toMatchObject({ assignees: [], labels: tricky.slice(0, 3), raw: [] });
    expect(list[2]).toMatchObject({ raw: 'just text', all_day: true });
  });

  it('refuses to write outside a transaction', async () => {
    await expect(
      h.repo.upsertPage(h.db.dataSource.manager, {
        ...newConnection(),
        upserts: [makeItem(1)],
        deletions: [],
      }),
    ).rejects.toThrow(/inside the caller transaction/);
  });

  it('purges one connection and the links to its items, nothing else', async () => {
    const gone = await h.connection();
    const kept = await h.connection(gone.userId);
    await write(gone, [makeItem(1), makeItem(2)]);
    await write(kept, [makeItem(1)]);
    const ids = await h.db.dataSource.query<{ id: string; connection_id: string }[]>(
      'SELECT id, connection_id FROM items WHERE connection_id IN ($1, $2)',
      [gone.connectionId, kept.connectionId],
    );
    const goneId = ids.find((r) => r.connection_id === gone.connectionId)!.id;
    const keptId = ids.find((r) => r.connection_id === kept.connectionId)!.id;
    await h.db.dataSource.query(
      `INSERT INTO item_links (id, item_id, linked_item_id, reason, user_id, confidence, origin)
       VALUES (gen_random_uuid(), LEAST($1::uuid, $2::uuid), GREATEST($1::uuid, $2::uuid), 'same', $3, 1, 'manual')`,
      [keptId, goneId, gone.userId],
    );
    expect(await h.repo.purgeConnection(gone.connectionId)).toBe(2);
    expect((await rows(gone)).size).toBe(0);
    expect((await rows(kept)).size).toBe(1);
    const links = await h.db.dataSource.query(
      'SELECT 1 FROM item_links WHERE item_id = $1 OR linked_item_id = $1',
      [keptId],
    );
    expect(links).toHaveLength(0);
  });
});
