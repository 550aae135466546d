import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleCalendarFake } from '../../sandbox/google-calendar/google-calendar.fake.js';
import {
  CALENDAR_READONLY,
  listAll,
} from '../../sandbox/google-calendar/google-calendar.test-kit.js';
import { ItemsRepository } from '../../src/items/items.repository.js';
import type {
  OccurrenceDto,
  OccurrencesPageDto,
} from '../../src/occurrences/dto/occurrence.dto.js';
import { DAY, dayOfIsoDate, instantOf } from '../../src/core/time/wall-time.js';
import { GoogleCalendarProvider } from '../../src/providers/google-calendar/google-calendar.provider.js';
import type { ItemDeletion, NormalizedItem } from '@pdeck/integration-sdk';
import { eventually } from '@pdeck/integration-sdk/testing';
import { makeItem, newConnection, storeConnections } from '../support/items-fixtures.js';
import { freePort, startTestApp, TEST_API_TOKEN, type TestApp } from '../support/test-app.js';
import { googleFakeEnv } from '../support/google-fake-env.js';

const ALICE = 'alice@example.com';
const BERLIN = 'Europe/Berlin';
const auth = { authorization: `Bearer ${TEST_API_TOKEN}` };

describe('GET /v1/occurrences', () => {
  let fake: GoogleCalendarFake;
  let t: TestApp;
  let db: DataSource;

  async function get(query: string, headers: Record<string, string> = auth): Promise<Response> {
    return fetch(`${t.baseUrl}/v1/occurrences?${query}`, { headers });
  }
  async function page(query: string): Promise<OccurrencesPageDto> {
    const res = await get(query);
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as OccurrencesPageDto;
  }
  async function write(
    conn: ReturnType<typeof newConnection>,
    upserts: NormalizedItem[],
    deletions: ItemDeletion[] = [],
  ): Promise<void> {
    const repo = t.app.get(ItemsRepository);
    await db.transaction((m) => repo.upsertPage(m, { ...conn, upserts, deletions }));
  }

  beforeAll(async () => {
    // Demo data around Monday 2026-03-23: Alice's "Weekly sync" runs on the 12 Mondays from
    // 2026-03-09 at 10:00 Berlin, the one of 03-23 moved to 11:00, the one of 04-06 cancelled.
    fake = new GoogleCalendarFake({ seedAnchor: new Date('2026-03-25T12:00:00Z') });
    await fake.start();
    const port = await freePort();
    t = await startTestApp({
      port,
      integrations: [GoogleCalendarProvider],
      env: {
        ...googleFakeEnv(fake),
        RETURN_TO_ORIGINS: 'http://127.0.0.1:5999',
      },
    });
    db = t.app.get(DataSource);
  });
  afterAll(async () => {
    await t?.close();
    await fake?.stop();
  });

  describe('after a Google Calendar sync from the sandbox', () => {
    const userId = 'occurrences-alice';
    let connectionId: string;

    beforeAll(async () => {
      connectionId = await connectAlice(t, fake, userId);
      await eventually(
        async () => {
          const runs: { status: string }[] = await db.query(
            'SELECT status FROM sync_runs WHERE connection_id = $1',
            [connectionId],
          );
          return runs.length > 0 && runs.every((r) => r.status === 'succeeded') ? true : undefined;
        },
        'the initial full sync',
        { timeoutMs: 20_000 },
      );
    });

    it('expands the weekly series in Berlin time, with the moved instance and without the cancelled one', async () => {
      const body = await page(
        `userId=${userId}&from=2026-03-20T00:00:00Z&to=2026-04-14T00:00:00Z&limit=500`,
      );
      const weekly = body.occurrences.filter((o) => o.title?.startsWith('Weekly sync'));
      expect(weekly.map((o) => [o.startsAt, o.endsAt, o.originalStartsAt, o.title])).toEqual([
        // 11:00 CET instead of 10:00: the moved instance, its own item.
        [
          '2026-03-23T10:00:00.000Z',
          '2026-03-23T10:30:00.000Z',
          '2026-03-23T09:00:00.000Z',
          'Weekly sync (moved)',
        ],
        // 10:00 CEST from 03-29 on; 04-06 is cancelled.
        [
          '2026-03-30T08:00:00.000Z',
          '2026-03-30T08:30:00.000Z',
          '2026-03-30T08:00:00.000Z',
          'Weekly sync',
        ],
        [
          '2026-04-13T08:00:00.000Z',
          '2026-04-13T08:30:00.000Z',
          '2026-04-13T08:00:00.000Z',
          'Weekly sync',
        ],
      ]);
      const [moved, generated] = weekly;
      expect(moved.itemId).not.toBe(moved.recurringItemId);
      expect(generated.itemId).toBe(generated.recurringItemId);
      expect(moved.recurringItemId).toBe(generated.recurringItemId);
      expect(generated).toMatchObject({
        allDay: false,
        timeZone: BERLIN,
        status: 'confirmed',
        provider: 'google-calendar',
        connectionId,
        containerId: ALICE,
      });
      expect(body.skipped).toEqual([]);
    });

    it('keeps the cancelled instance, sent without `updated`, as a tombstone the expander reads', async () => {
      const rows: { raw: Record<string, unknown>; external_version: string }[] = await db.query(
        `SELECT raw, external_version FROM items
         WHERE connection_id = $1 AND deleted_at IS NOT NULL AND raw ? 'recurringEventId'`,
        [connectionId],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0].external_version).toBe('');
      expect(rows[0].raw).toMatchObject({
        status: 'cancelled',
        originalStartTime: { dateTime: '2026-04-06T10:00:00+02:00', timeZone: BERLIN },
      });
    });

    it("lists what Google's own expansion (singleEvents=true) lists for the same window", async () => {
      const from = '2026-03-23T12:00:00Z';
      const to = '2026-04-06T12:00:00Z';
      const body = await page(`userId=${userId}&from=${from}&to=${to}&limit=500`);
      const ours = body.occurrences.map((o) => `${o.containerId}|${o.startsAt}|${o.title}`).sort();

      const token = fake.oauth.issueTokens(ALICE, [CALENDAR_READONLY]).access_token;
      const calendars: { resource_id: string }[] = await db.query(
        'SELECT resource_id FROM sync_states WHERE connection_id = $1',
        [connectionId],
      );
      const google: string[] = [];
      for (const { resource_id } of calendars) {
        const { items } = await listAll(fake, token, resource_id, {
          singleEvents: 'true',
          timeMin: from,
          timeMax: to,
        });
        for (const e of items) {
          if (e.status === 'cancelled') continue;
          const start = e.start as { date?: string; dateTime?: string };
          const startsAt = start.date ?? new Date(start.dateTime!).toISOString();
          google.push(`${resource_id}|${startsAt}|${e.summary as string}`);
        }
      }
      expect(ours.length).toBeGreaterThan(8);
      expect(ours).toEqual(google.sort());
      // Sorted by start (all-day ones by their midnight in the calendar's zone).
      const ordered = [...body.occurrences].sort((a, b) => startMs(a) - startMs(b));
      expect(body.occurrences.map(startMs)).toEqual(ordered.map(startMs));
    });
  });

  describe('with items written through the repository', () => {
    const calendar = newConnection();
    const other = { ...newConnection(calendar.userId), provider: 'test-calendar' };
    const stranger = newConnection();
    const window = 'from=2026-05-04T00:00:00Z&to=2026-05-11T00:00:00Z';
    const timed = (n: number, title: string, start: string, end: string): NormalizedItem =>
      makeItem(n, {
        externalId: `cal-p:single${n}`,
        containerId: 'cal-p',
        title,
        startsAt: new Date(start),
        endsAt: new Date(end),
        raw: { id: `single${n}`, calendarTimeZone: BERLIN },
      });
    let expected: string[];

    beforeAll(async () => {
      await storeConnections(db, calendar, other, stranger);
      const master = makeItem(100, {
        externalId: 'cal-p:daily0',
        containerId: 'cal-p',
        title: 'Daily',
        startsAt: new Date('2026-05-04T08:00:00Z'),
        endsAt: new Date('2026-05-04T09:00:00Z'),
        raw: {
          id: 'daily0',
          recurrence: ['RRULE:FREQ=DAILY;COUNT=5'],
          start: { dateTime: '2026-05-04T10:00:00+02:00', timeZone: BERLIN },
          end: { dateTime: '2026-05-04T11:00:00+02:00', timeZone: BERLIN },
          calendarTimeZone: BERLIN,
        },
      });
      const moved = makeItem(101, {
        externalId: 'cal-p:daily0_20260505T080000Z',
        containerId: 'cal-p',
        title: 'Daily (moved)',
        startsAt: new Date('2026-05-05T13:00:00Z'),
        endsAt: new Date('2026-05-05T14:00:00Z'),
        raw: {
          id: 'daily0_20260505T080000Z',
          recurringEventId: 'daily0',
          originalStartTime: { dateTime: '2026-05-05T10:00:00+02:00', timeZone: BERLIN },
          start: { dateTime: '2026-05-05T15:00:00+02:00', timeZone: BERLIN },
          end: { dateTime: '2026-05-05T16:00:00+02:00', timeZone: BERLIN },
        },
      });
      const allDay = makeItem(102, {
        externalId: 'cal-p:allday',
        containerId: 'cal-p',
        title: 'All day',
        allDay: true,
        startsAt: new Date('2026-05-05T00:00:00Z'),
        endsAt: new Date('2026-05-06T00:00:00Z'),
        raw: { id: 'allday', start: { date: '2026-05-05' }, calendarTimeZone: BERLIN },
      });
      await write(
        calendar,
        [
          master,
          moved,
          allDay,
          timed(1, 'Single A', '2026-05-04T07:00:00Z', '2026-05-04T07:30:00Z'),
          timed(2, 'Tie', '2026-05-04T09:00:00Z', '2026-05-04T10:00:00Z'),
          timed(3, 'Tie', '2026-05-04T09:00:00Z', '2026-05-04T09:30:00Z'),
          timed(4, 'Single B', '2026-05-07T12:00:00Z', '2026-05-07T13:00:00Z'),
          timed(5, 'Overnight', '2026-05-03T23:00:00Z', '2026-05-04T01:00:00Z'),
          timed(6, 'At the window end', '2026-05-11T00:00:00Z', '2026-05-11T01:00:00Z'),
          timed(7, 'Deleted', '2026-05-06T10:00:00Z', '2026-05-06T11:00:00Z'),
        ],
        [
          { kind: 'event', externalId: 'cal-p:single7' },
          // The cancelled 05-06 instance, never stored before, without a version.
          {
            kind: 'event',
            externalId: 'cal-p:daily0_20260506T080000Z',
            tombstoneIfUnknown: true,
            raw: {
              status: 'cancelled',
              recurringEventId: 'daily0',
              originalStartTime: { dateTime: '2026-05-06T10:00:00+02:00', timeZone: BERLIN },
            },
          },
        ],
      );
      // A series deleted at Google: its tombstone and its (still live) moved instance show nothing.
      await write(calendar, [
        makeItem(110, {
          externalId: 'cal-p:gone0',
          containerId: 'cal-p',
          title: 'Gone series',
          startsAt: new Date('2026-05-04T12:00:00Z'),
          endsAt: new Date('2026-05-04T13:00:00Z'),
          raw: {
            id: 'gone0',
            recurrence: ['RRULE:FREQ=DAILY'],
            start: { dateTime: '2026-05-04T12:00:00Z' },
            end: { dateTime: '2026-05-04T13:00:00Z' },
          },
        }),
        makeItem(111, {
          externalId: 'cal-p:gone0_20260505T120000Z',
          containerId: 'cal-p',
          title: 'Gone series (moved)',
          startsAt: new Date('2026-05-05T14:00:00Z'),
          endsAt: new Date('2026-05-05T15:00:00Z'),
          raw: {
            id: 'gone0_20260505T120000Z',
            recurringEventId: 'gone0',
            originalStartTime: { dateTime: '2026-05-05T12:00:00Z' },
            start: { dateTime: '2026-05-05T14:00:00Z' },
            end: { dateTime: '2026-05-05T15:00:00Z' },
          },
        }),
      ]);
      await write(calendar, [], [{ kind: 'event', externalId: 'cal-p:gone0' }]);
      await write(other, [
        makeItem(200, {
          externalId: 'other-1',
          title: 'Other provider',
          startsAt: new Date('2026-05-06T06:00:00Z'),
          endsAt: new Date('2026-05-06T07:00:00Z'),
          raw: {},
        }),
      ]);
      await write(stranger, [
        makeItem(300, {
          title: 'Stranger',
          startsAt: new Date('2026-05-04T07:00:00Z'),
          endsAt: new Date('2026-05-04T08:00:00Z'),
        }),
      ]);
      const ties: { id: string }[] = await db.query(
        `SELECT id FROM items WHERE connection_id = $1 AND title = 'Tie' ORDER BY id`,
        [calendar.connectionId],
      );
      expect(ties).toHaveLength(2);
      expected = [
        'Overnight|2026-05-03T23:00:00.000Z',
        'Single A|2026-05-04T07:00:00.000Z',
        'Daily|2026-05-04T08:00:00.000Z',
        `Tie|2026-05-04T09:00:00.000Z|${ties[0].id}`,
        `Tie|2026-05-04T09:00:00.000Z|${ties[1].id}`,
        'All day|2026-05-05', // its day began at 22:00Z on the 4th (Berlin)
        'Daily (moved)|2026-05-05T13:00:00.000Z',
        'Other provider|2026-05-06T06:00:00.000Z',
        'Daily|2026-05-07T08:00:00.000Z',
        'Single B|2026-05-07T12:00:00.000Z',
        'Daily|2026-05-08T08:00:00.000Z',
      ];
    });

    const label = (o: OccurrenceDto) =>
      o.title === 'Tie' ? `Tie|${o.startsAt}|${o.itemId}` : `${o.title}|${o.startsAt}`;

    it('returns single events of every provider and the expanded series, in start order', async () => {
      const body = await page(`userId=${calendar.userId}&${window}&limit=500`);
      expect(body.occurrences.map(label)).toEqual(expected);
      expect(body).toMatchObject({ hasMore: false, nextCursor: null, skipped: [] });
      const allDay = body.occurrences.find((o) => o.title === 'All day')!;
      expect(allDay).toMatchObject({ allDay: true, endsAt: '2026-05-06', timeZone: BERLIN });
      const daily = body.occurrences.filter((o) => o.title === 'Daily');
      expect(new Set(daily.map((o) => o.recurringItemId)).size).toBe(1);
      expect(body.occurrences.find((o) => o.title === 'Single A')).toMatchObject({
        recurringItemId: null,
        originalStartsAt: null,
      });
    });

    it('pages with limit and cursor: every occurrence once, in the same order', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const body: OccurrencesPageDto = await page(
          `userId=${calendar.userId}&${window}&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        );
        pages++;
        expect(body.occurrences.length).toBeLessThanOrEqual(3);
        seen.push(...body.occurrences.map(label));
        expect(body.hasMore).toBe(body.nextCursor !== null);
        cursor = body.nextCursor;
      } while (cursor && pages < 10);
      expect(pages).toBe(4);
      expect(seen).toEqual(expected);
    });

    it("filters by connection, and never returns another user's events", async () => {
      const only = await page(
        `userId=${calendar.userId}&${window}&connectionId=${other.connectionId}`,
      );
      expect(only.occurrences.map(label)).toEqual(['Other provider|2026-05-06T06:00:00.000Z']);
      const theirs = await page(`userId=${stranger.userId}&${window}`);
      expect(theirs.occurrences.map((o) => o.title)).toEqual(['Stranger']);
      const foreign = await page(
        `userId=${stranger.userId}&${window}&connectionId=${calendar.connectionId}`,
      );
      expect(foreign.occurrences).toEqual([]);
    });

    it('refuses a cursor of another query', async () => {
      const first = await page(`userId=${calendar.userId}&${window}&limit=2`);
      const res = await get(
        `userId=${stranger.userId}&${window}&limit=2&cursor=${first.nextCursor}`,
      );
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toContain('another query');
    });
  });

  describe('input', () => {
    const ok = 'userId=u1&from=2026-03-01T00:00:00Z&to=2026-03-08T00:00:00Z';

    it.each([
      ['from=2026-03-01T00:00:00Z&to=2026-03-08T00:00:00Z', 'userId'],
      ['userId=u1&to=2026-03-08T00:00:00Z', 'from must be an ISO 8601 instant'],
      ['userId=u1&from=2026-03-01&to=2026-03-08T00:00:00Z', 'from must be an ISO 8601 instant'],
      [
        'userId=u1&from=2026-03-01T00:00:00&to=2026-03-08T00:00:00Z',
        'from must be an ISO 8601 instant',
      ],
      [
        'userId=u1&from=2026-03-01T00:00:00Z&to=2026-02-30T00:00:00Z',
        'to must be an ISO 8601 instant',
      ],
      ['userId=u1&from=yesterday&to=2026-03-08T00:00:00Z', 'from must be an ISO 8601 instant'],
      ['userId=u1&from=2026-03-08T00:00:00Z&to=2026-03-08T00:00:00Z', 'to must be later than from'],
      ['userId=u1&from=2026-03-08T00:00:00Z&to=2026-03-01T00:00:00Z', 'to must be later than from'],
      [
        'userId=u1&from=2026-01-01T00:00:00Z&to=2027-01-02T00:00:01Z',
        'to must be at most 366 days after from',
      ],
      [`${ok}&limit=0`, 'limit'],
      [`${ok}&limit=501`, 'limit'],
      [`${ok}&connectionId=nope`, 'connectionId must be a UUID'],
      [`${ok}&cursor=not-a-cursor`, 'cursor is malformed'],
      [`${ok}&kind=event`, 'kind'],
    ])('400 for %s', async (query, words) => {
      const res = await get(query);
      expect(res.status).toBe(400);
      expect(JSON.stringify(await res.json())).toContain(words);
    });

    it('accepts a window of exactly 366 days and offsets other than Z', async () => {
      expect(
        (await get('userId=u1&from=2026-01-01T00:00:00Z&to=2027-01-02T00:00:00Z')).status,
      ).toBe(200);
      expect(
        (await get(`userId=u1&from=2026-03-01T01:00:00%2B01:00&to=2026-03-02T00:00:00Z`)).status,
      ).toBe(200);
    });

    it('401 without the internal token', async () => {
      expect((await get(ok, {})).status).toBe(401);
      expect((await get(ok, { authorization: 'Bearer wrong' })).status).toBe(401);
    });

    it('is in the OpenAPI document', async () => {
      const res = await fetch(`${t.baseUrl}/docs/json`, { headers: auth });
      expect(res.status).toBe(200);
      const doc = (await res.json()) as {
        paths: Record<string, { get?: { parameters?: { name: string }[] } }>;
      };
      const op = doc.paths['/v1/occurrences']?.get;
      expect(op).toBeDefined();
      expect(op!.parameters!.map((p) => p.name).sort()).toEqual(
        ['connectionId', 'cursor', 'from', 'limit', 'to', 'userId'].sort(),
      );
    });
  });
});

/** The instant the API orders by: an all-day occurrence's midnight in its zone. */
function startMs(o: OccurrenceDto): number {
  if (!o.allDay) return Date.parse(o.startsAt);
  return instantOf(dayOfIsoDate(o.startsAt)! * DAY, o.timeZone ?? 'UTC');
}

/** Alice connects through the sandbox's consent page, and PDeck confirms the connection. */
async function connectAlice(t: TestApp, fake: GoogleCalendarFake, userId: string): Promise<string> {
  const headers = { ...auth, 'content-type': 'application/json' };
  const start = await fetch(`${t.baseUrl}/v1/connections/google-calendar/authorize`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ userId, returnTo: 'http://127.0.0.1:5999/connected' }),
  });
  expect(start.status).toBe(201);
  const url = new URL(((await start.json()) as { authorizeUrl: string }).authorizeUrl);
  url.searchParams.set('auto', 'allow');
  url.searchParams.set('account', ALICE);
  const consent = await fetch(url, { redirect: 'manual' });
  const done = await fetch(new URL(consent.headers.get('location')!), { redirect: 'manual' });
  const landed = new URL(done.headers.get('location')!);
  const connectionId = landed.searchParams.get('connectionId')!;
  const confirmed = await fetch(`${t.baseUrl}/v1/connections/${connectionId}/confirm`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ userId, token: landed.searchParams.get('confirm') }),
  });
  expect(confirmed.status).toBe(200);
  return connectionId;
}
