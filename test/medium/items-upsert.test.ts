import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  makeItem,
  openItemsHarness,
  version,
  type ItemsHarness,
} from '../support/items-fixtures.js';

describe('ItemsRepository.upsertPage on real Postgres', () => {
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

  it('inserts a page, then counts the same page as unchanged without touching the rows', async () => {
    const conn = await h.connection();
    const page = [makeItem(1), makeItem(2), makeItem(3)];
    const first = await write(conn, page);
    expect(first).toMatchObject({ inserted: 3, updated: 0, unchanged: 0, deleted: 0 });
    expect(BigInt(first.maxChangeSeq!) - BigInt(first.minChangeSeq!)).toBe(2n);
    const before = await rows(conn);
    expect([...before.values()].map((r) => r.seen_generation)).toEqual([0, 0, 0]);

    const again = await write(conn, page);
    expect(again).toEqual({
      inserted: 0,
      updated: 0,
      unchanged: 3,
      deleted: 0,
      minChangeSeq: null,
      maxChangeSeq: null,
    });
    const after = await rows(conn);
    for (const [id, row] of before) {
      expect(after.get(id)!.change_seq).toBe(row.change_seq);
      expect(after.get(id)!.updated_at).toEqual(row.updated_at);
    }
  });

  it('keeps the newer version when an older one arrives later', async () => {
    const conn = await h.connection();
    await write(conn, [makeItem(1)]);
    const newer = await write(conn, [makeItem(1, { externalVersion: version(3), title: 'v3' })]);
    expect(newer).toMatchObject({ inserted: 0, updated: 1, unchanged: 0 });
    const older = await write(conn, [makeItem(1, { externalVersion: version(2), title: 'v2' })]);
    expect(older).toMatchObject({ inserted: 0, updated: 0, unchanged: 1, maxChangeSeq: null });
    const row = (await rows(conn)).get('cal-1/evt-1')!;
    expect(row.title).toBe('v3');
    expect(row.external_version).toBe(version(3));
    expect(row.change_seq).toBe(newer.maxChangeSeq);
  });

  it('tombstones on deletion with a new change_seq, once, and ignores unknown items', async () => {
    const conn = await h.connection();
    await write(conn, [makeItem(1), makeItem(2)]);
    const before = (await rows(conn)).get('cal-1/evt-1');
    const del = await write(
      conn,
      [],
      [
        { kind: 'event', externalId: 'cal-1/evt-1' },
        { kind: 'event', externalId: 'cal-1/unknown' },
      ],
    );
    expect(del).toMatchObject({ deleted: 1, inserted: 0 });
    const after = await rows(conn);
    expect(after.size).toBe(2);
    const tomb = after.get('cal-1/evt-1')!;
    expect(tomb.deleted_at).toBeInstanceOf(Date);
    expect(seq(tomb)).toBeGreaterThan(seq(before));
    expect(tomb.change_seq).toBe(del.maxChangeSeq);
    expect(after.get('cal-1/evt-2')!.deleted_at).toBeNull();

    const replay = await write(conn, [], [{ kind: 'event', externalId: 'cal-1/evt-1' }]);
    expect(replay).toMatchObject({ deleted: 0, maxChangeSeq: null });
    expect((await rows(conn)).get('cal-1/evt-1')!.change_seq).toBe(tomb.change_seq);
  });

  it('ignores a deletion older than the stored version', async () => {
    const conn = await h.connection();
    await write(conn, [makeItem(1, { externalVersion: version(5) })]);
    const stale = await write(
      conn,
      [],
      [{ kind: 'event', externalId: 'cal-1/evt-1', externalVersion: version(4) }],
    );
    expect(stale.deleted).toBe(0);
    expect((await rows(conn)).get('cal-1/evt-1')!.deleted_at).toBeNull();
  });

  it('a deletion that asks for it tombstones an unknown item, so its older creation arriving later stays deleted', async () => {
    const conn = await h.connection();
    const deletion = {
      kind: 'event' as const,
      externalId: 'cal-1/evt-9',
      externalVersion: version(7),
      tombstoneIfUnknown: true,
    };
    const first = await write(conn, [], [deletion]);
    expect(first).toMatchObject({ deleted: 1, inserted: 0 });
    const tomb = (await rows(conn)).get('cal-1/evt-9')!;
    expect(tomb.deleted_at).toBeInstanceOf(Date);
    expect(tomb.external_version).toBe(version(7));
    // The creation (older) comes late: refused. The deletion replayed: nothing more.
    const late = await write(conn, [makeItem(9, { externalVersion: version(3) })]);
    expect(late).toMatchObject({ inserted: 0, updated: 0, unchanged: 1 });
    expect(await write(conn, [], [deletion])).toMatchObject({ deleted: 0 });
    const row = (await rows(conn)).get('cal-1/evt-9')!;
    expect(row.deleted_at).toBeInstanceOf(Date);
    expect(row.change_seq).toBe(tomb.change_seq);
    // Without the flag an unknown item stays unknown (other providers' cancellations).
    await write(conn, [], [{ ...deletion, externalId: 'cal-1/evt-10', tombstoneIfUnknown: false }]);
    expect((await rows(conn)).has('cal-1/evt-10')).toBe(false);
  });

  it('stores and updates the author', async () => {
    const conn = await h.connection();
    await write(conn, [makeItem(1, { author: 'Alice Archer' })]);
    expect((await rows(conn)).get('cal-1/evt-1')!.author).toBe('Alice Archer');
    await write(conn, [makeItem(1, { externalVersion: version(9), author: null })]);
    expect((await rows(conn)).get('cal-1/evt-1')!.author).toBeNull();
  });

  it('revives a tombstone only with a version newer than the deletion', async () => {
    const conn = await h.connection();
    await write(conn, [makeItem(1, { externalVersion: version(1) })]);
    await write(
      conn,
      [],
      [{ kind: 'event', externalId: 'cal-1/evt-1', externalVersion: version(5) }],
    );
    const late = await write(conn, [makeItem(1, { externalVersion: version(4) })]);
    expect(late).toMatchObject({ updated: 0, unchanged: 1 });
    expect((await rows(conn)).get('cal-1/evt-1')!.deleted_at).toBeInstanceOf(Date);

    const tomb = (await rows(conn)).get('cal-1/evt-1')!;
    const revive = await write(conn, [makeItem(1, { externalVersion: version(6), title: 'back' })]);
    expect(revive).toMatchObject({ inserted: 0, updated: 1 });
    const row = (await rows(conn)).get('cal-1/evt-1')!;
    expect(row).toMatchObject({ deleted_at: null, title: 'back', external_version: version(6) });
    expect(seq(row)).toBeGreaterThan(seq(tomb));
  });

  it('writes one row per duplicated external id, the highest version', async () => {
    const conn = await h.connection();
    const result = await write(conn, [
      makeItem(1, { externalVersion: version(2), title: 'two' }),
      makeItem(1, { externalVersion: version(7), title: 'seven' }),
      makeItem(1, { externalVersion: version(3), title: 'three' }),
    ]);
    expect(result).toMatchObject({ inserted: 1, updated: 0, unchanged: 2 });
    const all = await rows(conn);
    expect(all.size).toBe(1);
    expect(all.get('cal-1/evt-1')).toMatchObject({ title: 'seven', external_version: version(7) });
  });
});
