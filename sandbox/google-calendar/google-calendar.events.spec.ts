import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleCalendarFake } from './google-calendar.fake.js';
import { api, connect, listAll, type EventsPage } from './google-calendar.test-kit.js';
import { TEAM_CALENDAR_ID } from './seed.js';

let fake: GoogleCalendarFake;
let token: string;
const ALICE = 'alice@example.com';

beforeAll(async () => {
  fake = new GoogleCalendarFake({ seedAnchor: new Date('2026-03-04T12:00:00Z') });
  await fake.start();
  token = (await connect(fake, ALICE)).access_token;
});
afterAll(() => fake.stop());

async function page(
  calendarId: string,
  params: Record<string, string>,
): Promise<{ status: number; body: EventsPage & Record<string, unknown> }> {
  const res = await api(
    fake,
    token,
    `/calendars/${encodeURIComponent(calendarId)}/events?${new URLSearchParams(params)}`,
  );
  return { status: res.status, body: (await res.json()) as EventsPage & Record<string, unknown> };
}

describe('events.list full sync', () => {
  it('pages with nextPageToken; nextSyncToken only on the last page; cancelled hidden but for instances', async () => {
    const { items, pages, nextSyncToken } = await listAll(fake, token, 'primary', {
      maxResults: '3',
    });
    expect(pages.length).toBeGreaterThan(1);
    for (const p of pages.slice(0, -1)) {
      expect(p.nextPageToken).toEqual(expect.any(String));
      expect(p).not.toHaveProperty('nextSyncToken');
    }
    expect(pages.at(-1)).not.toHaveProperty('nextPageToken');
    expect(nextSyncToken).toEqual(expect.any(String));
    expect(new Set(items.map((e) => e.id)).size).toBe(items.length);
    // Cancelled events are left out, except a series' cancelled instances, which Google lists
    // when showDeleted and singleEvents are both false (the events.list reference).
    const cancelled = items.filter((e) => e.status === 'cancelled');
    expect(cancelled).toHaveLength(1);
    expect(cancelled[0]).toHaveProperty('recurringEventId');
    expect(pages[0]).toMatchObject({
      kind: 'calendar#events',
      summary: ALICE,
      timeZone: 'Europe/Berlin',
      accessRole: 'owner',
    });
  });

  it('speaks the event formats: timed with offset + zone, all-day dates, series master and exception', async () => {
    const { items } = await listAll(fake, token, 'primary');
    const byTitle = new Map(items.map((e) => [e.summary as string, e]));
    const review = byTitle.get('Sprint review')!;
    expect(review).toMatchObject({
      kind: 'calendar#event',
      status: 'confirmed',
      start: { dateTime: '2026-03-05T14:00:00+01:00', timeZone: 'Europe/Berlin' },
      end: { dateTime: '2026-03-05T15:00:00+01:00', timeZone: 'Europe/Berlin' },
      organizer: { email: ALICE, self: true },
      iCalUID: `${review.id}@google.com`,
      eventType: 'default',
    });
    expect(review.id).toMatch(/^[0-9a-v]{5,1024}$/);
    expect(review.etag).toMatch(/^"\d+"$/);
    expect(review.updated).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(review.htmlLink).toMatch(/^https:\/\/www\.google\.com\/calendar\/event\?eid=/);
    expect((review.attendees as unknown[]).length).toBe(3);
    expect(byTitle.get('Offsite')).toMatchObject({
      start: { date: '2026-03-10' },
      end: { date: '2026-03-12' },
    });
    expect(byTitle.get('Flight FRA → JFK')).toMatchObject({
      end: { timeZone: 'America/New_York' },
    });
    const master = byTitle.get('Weekly sync')!;
    expect(master.recurrence).toEqual(['RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=12']);
    expect(byTitle.get('Weekly sync (moved)')).toMatchObject({
      recurringEventId: master.id,
      originalStartTime: { dateTime: '2026-03-02T10:00:00+01:00', timeZone: 'Europe/Berlin' },
      start: { dateTime: '2026-03-02T11:00:00+01:00' },
    });
  });

  it('shows cancelled events with showDeleted, reduced to what Google guarantees', async () => {
    const { items } = await listAll(fake, token, 'primary', { showDeleted: 'true' });
    const cancelled = items.filter((e) => e.status === 'cancelled');
    expect(cancelled).toHaveLength(2);
    const instance = cancelled.find((e) => e.recurringEventId)!;
    expect(Object.keys(instance).sort()).toEqual([
      'etag',
      'id',
      'kind',
      'originalStartTime',
      'recurringEventId',
      'status',
    ]);
    const plain = cancelled.find((e) => !e.recurringEventId)!;
    expect(Object.keys(plain).sort()).toEqual(['etag', 'id', 'kind', 'status']);
  });

  it('expands series with singleEvents=true, ordered by start, exceptions applied', async () => {
    const { items } = await listAll(fake, token, 'primary', {
      singleEvents: 'true',
      orderBy: 'startTime',
    });
    const weekly = items.filter((e) => (e.summary as string).startsWith('Weekly sync'));
    expect(weekly).toHaveLength(11); // 12 occurrences, one cancelled
    expect(weekly.every((e) => e.recurringEventId && !e.recurrence)).toBe(true);
    expect(weekly[2]).toMatchObject({ summary: 'Weekly sync (moved)' });
    // 10:00 Berlin on both sides of the DST change (29 March 2026).
    expect(weekly[4].start).toEqual({
      dateTime: '2026-03-23T10:00:00+01:00',
      timeZone: 'Europe/Berlin',
    });
    expect(weekly[5].start).toEqual({
      dateTime: '2026-03-30T10:00:00+02:00',
      timeZone: 'Europe/Berlin',
    });
    expect(weekly[5].id).toBe(`${weekly[0].recurringEventId}_20260330T080000Z`);
    const starts = items.map((e) =>
      Date.parse(
        (e.start as { dateTime?: string; date?: string }).dateTime ??
          `${(e.start as { date: string }).date}T00:00:00Z`,
      ),
    );
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
  });

  it('rejects parameters Google rejects', async () => {
    expect((await page('primary', { orderBy: 'startTime' })).status).toBe(400);
    expect((await page('primary', { maxResults: '0' })).status).toBe(400);
    expect((await page('primary', { timeMin: '2026-03-01T00:00:00' })).status).toBe(400); // no offset
    expect((await page('nobody@example.com', {})).status).toBe(404);
    expect((await page('primary', { maxResults: '99999' })).body.items.length).toBeGreaterThan(0); // clamped
  });
});

describe('events.list incremental sync', () => {
  it('returns only changes since the token, including cancellations, then nothing', async () => {
    const { nextSyncToken, items } = await listAll(fake, token, TEAM_CALENDAR_ID);
    const release = items.find((e) => e.summary === 'Release planning')!;
    const created = fake.createEvent(ALICE, TEAM_CALENDAR_ID, { summary: 'Retro' });
    fake.updateEvent(ALICE, TEAM_CALENDAR_ID, created.id, { summary: 'Retro (longer)' });
    fake.cancelEvent(ALICE, TEAM_CALENDAR_ID, release.id);
    const delta = await listAll(fake, token, TEAM_CALENDAR_ID, { syncToken: nextSyncToken! });
    expect(delta.items).toHaveLength(2);
    expect(delta.items[0]).toMatchObject({
      id: created.id,
      summary: 'Retro (longer)',
      status: 'confirmed',
    });
    expect(delta.items[1]).toEqual({
      kind: 'calendar#event',
      etag: expect.any(String),
      id: release.id,
      status: 'cancelled',
    });
    expect(delta.nextSyncToken).not.toBe(nextSyncToken);
    const quiet = await listAll(fake, token, TEAM_CALENDAR_ID, { syncToken: delta.nextSyncToken! });
    expect(quiet.items).toEqual([]);
  });

  it('pages an incremental result, with the sync token only on the last page', async () => {
    const { nextSyncToken } = await listAll(fake, token, 'primary');
    for (let i = 0; i < 5; i++) fake.createEvent(ALICE, 'primary', { summary: `Change ${i}` });
    const delta = await listAll(fake, token, 'primary', {
      syncToken: nextSyncToken!,
      maxResults: '2',
    });
    expect(delta.pages.map((p) => p.items.length)).toEqual([2, 2, 1]);
    expect(delta.pages.slice(0, -1).every((p) => p.nextSyncToken === undefined)).toBe(true);
    expect(delta.items.map((e) => e.summary)).toEqual([
      'Change 0',
      'Change 1',
      'Change 2',
      'Change 3',
      'Change 4',
    ]);
  });

  it('editing one instance of a series arrives as an exception', async () => {
    const { nextSyncToken, items } = await listAll(fake, token, 'primary');
    const master = items.find((e) => e.summary === 'Weekly sync')!;
    const instanceId = `${master.id}_20260309T090000Z`;
    fake.updateEvent(ALICE, 'primary', instanceId, { summary: 'Weekly sync (with guests)' });
    const delta = await listAll(fake, token, 'primary', { syncToken: nextSyncToken! });
    expect(delta.items).toEqual([
      expect.objectContaining({
        id: instanceId,
        recurringEventId: master.id,
        summary: 'Weekly sync (with guests)',
      }),
    ]);
  });

  it('rejects syncToken with timeMin/orderBy/q or showDeleted=false (400)', async () => {
    const { nextSyncToken } = await listAll(fake, token, 'primary');
    const clashes: Array<Record<string, string>> = [
      { timeMin: '2026-01-01T00:00:00Z' },
      { orderBy: 'updated' },
      { q: 'sync' },
      { showDeleted: 'false' },
    ];
    for (const extra of clashes) {
      const res = await page('primary', { syncToken: nextSyncToken!, ...extra });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: { code: 400, errors: [{ domain: 'global' }] } });
    }
  });

  it('answers 410 fullSyncRequired for a stale token, and a fresh full sync recovers', async () => {
    const { nextSyncToken } = await listAll(fake, token, 'primary');
    fake.invalidateSyncTokens(ALICE, 'primary');
    const res = await page('primary', { syncToken: nextSyncToken! });
    expect(res.status).toBe(410);
    expect(res.body).toEqual({
      error: {
        errors: [
          {
            domain: 'global',
            reason: 'fullSyncRequired',
            message: 'Sync token is no longer valid, a full sync is required.',
          },
        ],
        code: 410,
        message: 'Sync token is no longer valid, a full sync is required.',
      },
    });
    const fresh = await listAll(fake, token, 'primary');
    expect((await page('primary', { syncToken: fresh.nextSyncToken! })).status).toBe(200);
    expect((await page('primary', { syncToken: 'garbage' })).status).toBe(410);
  });
});
