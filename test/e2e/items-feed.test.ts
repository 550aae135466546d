import { EventEmitter2 } from '@nestjs/event-emitter';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ItemDto, ItemsPageDto } from '../../src/items/dto/item.dto.js';
import { CONNECTION_EVENTS, type ConnectionEvent } from '../../src/auth/connection-events.js';
import { ItemsRepository } from '../../src/items/items.repository.js';
import type { ItemDeletion, NormalizedItem } from '@pdeck/integration-sdk';
import { makeItem, newConnection, storeConnections, version } from '../support/items-fixtures.js';
import { startTestApp, TEST_API_TOKEN, type TestApp } from '../support/test-app.js';

describe('GET /v1/items (changes feed)', () => {
  let t: TestApp;
  const calendar = newConnection();
  const trello = { ...newConnection(calendar.userId), provider: 'trello' };
  const stranger = newConnection();

  async function write(
    conn: typeof calendar,
    upserts: NormalizedItem[],
    deletions: ItemDeletion[] = [],
  ): Promise<void> {
    const repo = t.app.get(ItemsRepository);
    await t.app
      .get(DataSource)
      .transaction((m) => repo.upsertPage(m, { ...conn, upserts, deletions }));
  }
  async function get(query: string, token: string | null = TEST_API_TOKEN): Promise<Response> {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    return fetch(`${t.baseUrl}/v1/items?${query}`, { headers });
  }
  async function page(query: string): Promise<ItemsPageDto> {
    const res = await get(query);
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as ItemsPageDto;
  }
  /** Follows nextCursor with limit 2 until the feed says there is nothing more right now. */
  async function readAll(
    filters: string,
  ): Promise<{ items: ItemDto[]; cursor: string; pages: number }> {
    const items: ItemDto[] = [];
    let cursor = '';
    let pages = 0;
    for (;;) {
      const p = await page(
        `userId=${calendar.userId}&limit=2${filters}${cursor && `&cursor=${cursor}`}`,
      );
      pages++;
      items.push(...p.items);
      expect(p.items.length).toBeLessThanOrEqual(2);
      cursor = p.nextCursor;
      if (!p.hasMore) return { items, cursor, pages };
    }
  }

  beforeAll(async () => {
    t = await startTestApp();
    await storeConnections(t.app.get(DataSource), calendar, trello, stranger);
    const task = (n: number) =>
      makeItem(n, {
        kind: 'task',
        externalId: `card-${n}`,
        containerId: 'board-1',
        containerName: 'Board',
      });
    await write(calendar, [
      makeItem(1),
      makeItem(2),
      makeItem(3, { assignees: [], labels: ['ü', 'x y'] }),
    ]);
    await write(trello, [task(1), task(2)]);
    await write(stranger, [makeItem(9)]);
    await write(
      calendar,
      [],
      [{ kind: 'event', externalId: 'cal-1/evt-2', externalVersion: version(2) }],
    );
  });
  afterAll(async () => {
    await t?.close();
  });

  it('pages every change of the user in change_seq order, tombstones included, then polls', async () => {
    const { items, cursor, pages } = await readAll('');
    expect(pages).toBe(3);
    expect(items.map((i) => i.externalId)).toEqual([
      'cal-1/evt-1',
      'cal-1/evt-3',
      'card-1',
      'card-2',
      'cal-1/evt-2',
    ]);
    const seqs = items.map((i) => BigInt(i.changeSeq));
    expect([...seqs].sort((a, b) => (a < b ? -1 : 1))).toEqual(seqs);
    const tomb = items.at(-1)!;
    expect(tomb.deletedAt).toEqual(expect.any(String));
    expect(tomb.externalVersion).toBe(version(2));
    expect(items[0]).toMatchObject({
      connectionId: calendar.connectionId,
      provider: 'google-calendar',
      kind: 'event',
      container: { id: 'cal-1', name: 'Team calendar' },
      title: 'Meeting 1',
      startsAt: '2026-12-01T10:00:00.000Z',
      allDay: false,
      dueAt: null,
      assignees: ['a1@example.com'],
      deletedAt: null,
    });
    expect(items[1]).toMatchObject({ assignees: [], labels: ['ü', 'x y'] });
    expect(items[0]).not.toHaveProperty('raw');

    // Caught up: the cursor stays put, and the next change arrives on the next poll.
    const idle = await page(`userId=${calendar.userId}&cursor=${cursor}`);
    expect(idle).toEqual({ items: [], nextCursor: cursor, hasMore: false });
    await write(calendar, [makeItem(1, { externalVersion: version(5), title: 'moved' })]);
    const next = await page(`userId=${calendar.userId}&cursor=${cursor}`);
    expect(next.items.map((i) => [i.externalId, i.title])).toEqual([['cal-1/evt-1', 'moved']]);
    expect(next.nextCursor).not.toBe(cursor);
  });

  it('filters by provider and kind, and includes raw on request', async () => {
    const tasks = await readAll('&provider=trello');
    expect(tasks.items.map((i) => i.externalId)).toEqual(['card-1', 'card-2']);
    const events = await readAll('&kind=event');
    expect(new Set(events.items.map((i) => i.kind))).toEqual(new Set(['event']));
    expect(events.items).toHaveLength(3);
    expect((await readAll('&provider=google-calendar&kind=task')).items).toEqual([]);
    const raw = await page(`userId=${calendar.userId}&provider=trello&includeRaw=true`);
    expect(raw.items[0].raw).toEqual({ id: 'evt-1', n: 1 });
    const strangers = await page(`userId=${stranger.userId}`);
    expect(strangers.items.map((i) => i.connectionId)).toEqual([stranger.connectionId]);
  });

  it('answers bad input with 400', async () => {
    const u = `userId=${calendar.userId}`;
    const bad = [
      '',
      'userId=',
      `${u}&kind=note`,
      `${u}&provider=Not%20A%20Provider`,
      `${u}&cursor=garbage!`,
      `${u}&cursor=${Buffer.from('{"v":1,"s":"x"}').toString('base64url')}`,
      `${u}&limit=0`,
      `${u}&limit=5000`,
      `${u}&limit=abc`,
      `${u}&includeRaw=yes`,
      `${u}&unknown=1`,
    ];
    for (const query of bad) expect((await get(query)).status, query).toBe(400);
  });

  it('purges the items of a deleted connection only when asked to', async () => {
    // As the disconnect emits it: emitAsync settles once every listener has finished.
    const emit = (purgeItems: boolean) =>
      t.app.get(EventEmitter2).emitAsync(CONNECTION_EVENTS.deleted, {
        ...stranger,
        purgeItems,
      } satisfies ConnectionEvent);
    const count = async () =>
      (
        await t.app
          .get(DataSource)
          .query('SELECT count(*)::int AS n FROM items WHERE connection_id = $1', [
            stranger.connectionId,
          ])
      )[0].n as number;
    await emit(false);
    expect(await count()).toBe(1);
    await emit(true);
    expect(await count()).toBe(0);
  });

  it('requires the internal bearer token', async () => {
    expect((await get(`userId=${calendar.userId}`, null)).status).toBe(401);
    expect((await get(`userId=${calendar.userId}`, 'wrong-token-0000000000000000')).status).toBe(
      401,
    );
  });

  it('is documented in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${t.baseUrl}/docs/json`)).json()) as {
      paths: Record<string, { get?: { tags?: string[]; security?: unknown[] } }>;
    };
    expect(doc.paths['/v1/items']?.get?.tags).toEqual(['items']);
    expect(doc.paths['/v1/items']?.get?.security).toEqual([{ bearer: [] }]);
  });
});
