import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isNewerVersion } from '../../items/item-page-input.js';
import { eventExternalId, mapEvents, toItem, type CalendarRef } from './google-calendar.mapper.js';
import { MIN_VERSION, parseRfc3339, versionOf } from './google-calendar.time.js';
import type { GoogleEvent, GoogleEventsPage } from './google-calendar.types.js';

const page = (name: string): GoogleEventsPage =>
  JSON.parse(
    readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'),
  ) as GoogleEventsPage;

const CAL: CalendarRef = { id: 'alice@example.com', name: 'Alice', timeZone: 'Europe/Berlin' };
const full = mapEvents(page('events-full-page.json').items!, CAL);
const byId = (id: string) => full.upserts.find((i) => i.externalId === `${CAL.id}:${id}`)!;

describe('mapEvents on an example last page of an incremental sync', () => {
  const mapped = mapEvents(page('events-incremental-last-page.json').items!, CAL);

  it('maps the confirmed timed event to an exact instant from its offset', () => {
    expect(mapped.upserts).toHaveLength(1);
    const item = mapped.upserts[0];
    expect(item).toMatchObject({
      kind: 'event',
      externalId: 'alice@example.com:7kq2v0c1m9ehg6t0o4p1a2b3c4',
      containerId: 'alice@example.com',
      containerName: 'Alice',
      title: 'Sprint review',
      body: null,
      status: 'confirmed',
      allDay: false,
      dueAt: null,
      url: 'https://www.google.com/calendar/event?eid=N2txMnYw...',
      assignees: [],
      labels: [],
      externalVersion: '2026-03-04T10:14:59.121Z',
    });
    expect(item.startsAt?.toISOString()).toBe('2026-03-06T13:00:00.000Z');
    expect(item.endsAt?.toISOString()).toBe('2026-03-06T14:00:00.000Z');
    expect(item.externalUpdatedAt?.toISOString()).toBe('2026-03-04T10:14:59.121Z');
  });

  it('turns the id-only cancelled entry into an unversioned deletion', () => {
    expect(mapped.deletions).toEqual([
      { kind: 'event', externalId: 'alice@example.com:0aa1bb2cc3dd4ee5ff6gg7hh8i' },
    ]);
  });
});

describe('mapEvents on a full-sync page', () => {
  it('keeps every live event and no deletion', () => {
    expect(full.upserts).toHaveLength(5);
    expect(full.deletions).toEqual([]);
  });

  it('stores an all-day event as UTC midnights with the exclusive end date', () => {
    const item = byId('allday0holiday0trip00001');
    expect(item.allDay).toBe(true);
    expect(item.startsAt?.toISOString()).toBe('2026-03-09T00:00:00.000Z');
    // Two days (9th and 10th): Google's end date is the day after the last one.
    expect(item.endsAt?.toISOString()).toBe('2026-03-11T00:00:00.000Z');
    expect(item.raw).toMatchObject({
      start: { date: '2026-03-09' },
      end: { date: '2026-03-11' },
      calendarTimeZone: 'Europe/Berlin',
    });
  });

  it('reads a timed event in its own zone, keeps people, status and details', () => {
    const item = byId('timed0planning0session01');
    expect(item.startsAt?.toISOString()).toBe('2026-03-10T14:30:00.000Z');
    expect(item.endsAt?.toISOString()).toBe('2026-03-10T15:15:00.000Z');
    expect(item.status).toBe('tentative');
    expect(item.body).toBe('Agenda: Q2 roadmap');
    // The room is a resource, not a person.
    expect(item.assignees).toEqual(['alice@example.com', 'bob@example.com', 'carol@example.com']);
    // Sub-millisecond forms are normalized to the fixed 24-character form.
    expect(item.externalVersion).toBe('2026-02-20T16:45:12.500Z');
    expect(item.raw).toMatchObject({
      location: 'Room 4.01',
      organizer: { email: 'alice@example.com', self: true },
      start: { timeZone: 'America/New_York' },
    });
    expect((item.raw as { attendees: unknown[] }).attendees).toHaveLength(4);
  });

  it('keeps a recurring master once, with its rules in raw', () => {
    const item = byId('weekly0standup0series001');
    expect(item.startsAt?.toISOString()).toBe('2026-01-05T08:00:00.000Z');
    expect(item.raw).toMatchObject({ recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR'] });
    expect(item.raw).not.toHaveProperty('recurringEventId');
  });

  it('keeps a modified instance as its own item pointing at its series', () => {
    const item = byId('weekly0standup0series001_20260311T080000Z');
    expect(item.title).toBe('Standup (moved)');
    expect(item.startsAt?.toISOString()).toBe('2026-03-11T09:00:00.000Z');
    expect(item.raw).toMatchObject({
      recurringEventId: 'weekly0standup0series001',
      originalStartTime: { dateTime: '2026-03-11T09:00:00+01:00' },
    });
  });

  it('labels non-default event types and leaves url null when there is no link', () => {
    const item = byId('ooo0vacation0block000001');
    expect(item.labels).toEqual(['outOfOffice']);
    expect(item.url).toBeNull();
  });
});

describe('cancellations in an incremental page', () => {
  const mapped = mapEvents(page('events-cancellations.json').items!, CAL);

  it('deletes a cancelled instance of a live series and a cancelled event, versioned when it can', () => {
    expect(mapped.upserts).toEqual([]);
    expect(mapped.deletions).toEqual([
      {
        kind: 'event',
        externalId: 'alice@example.com:weekly0standup0series001_20260313T080000Z',
        // Kept as a tombstone with what an expander of the series needs.
        tombstoneIfUnknown: true,
        raw: {
          id: 'weekly0standup0series001_20260313T080000Z',
          etag: '"3419876543600000"',
          status: 'cancelled',
          recurringEventId: 'weekly0standup0series001',
          originalStartTime: { dateTime: '2026-03-13T09:00:00+01:00', timeZone: 'Europe/Berlin' },
          calendarTimeZone: 'Europe/Berlin',
        },
      },
      {
        kind: 'event',
        externalId: 'alice@example.com:timed0planning0session01',
        externalVersion: '2026-03-05T08:00:00.000Z',
      },
    ]);
  });

  it('gives the deletion a version newer than the item it deletes', () => {
    const live = byId('timed0planning0session01').externalVersion;
    expect(isNewerVersion(mapped.deletions[1].externalVersion!, live)).toBe(true);
  });
});

describe('ids and versions', () => {
  it('composes calendar and event id, so one meeting in two calendars is two items', () => {
    const event: GoogleEvent = { id: 'shared0meeting', updated: '2026-03-01T00:00:00Z' };
    const a = toItem(event, { id: 'alice@example.com', name: null });
    const b = toItem(event, { id: 'team@group.calendar.google.com', name: null });
    expect(a.externalId).not.toBe(b.externalId);
    expect(eventExternalId('en.usa#holiday@group.v.calendar.google.com', 'x1')).toBe(
      'en.usa#holiday@group.v.calendar.google.com:x1',
    );
  });

  it('orders versions as bytes exactly as it orders the instants', () => {
    const stamps = [
      '2026-03-04T10:14:59Z',
      '2026-03-04T11:14:59.1+01:00', // an offset form of 10:14:59.100Z
      '2026-03-04T10:14:59.2Z',
      '2026-03-04T10:14:59.999999Z',
      '2026-03-04T10:15:00.000Z',
      '2026-12-31T23:59:59.999-01:00',
    ];
    const versions = stamps.map((s) => versionOf(s)!);
    for (const v of versions) expect(v).toHaveLength(24);
    for (let i = 1; i < versions.length; i++) {
      expect(isNewerVersion(versions[i], versions[i - 1])).toBe(true);
    }
    expect(isNewerVersion(versions[0], MIN_VERSION)).toBe(true);
  });

  it('falls back to created, then to the lowest version, when updated is missing', () => {
    const cal = { id: 'c', name: null };
    expect(toItem({ id: 'e', created: '2026-01-01T00:00:00Z' }, cal).externalVersion).toBe(
      '2026-01-01T00:00:00.000Z',
    );
    expect(toItem({ id: 'e' }, cal).externalVersion).toBe(MIN_VERSION);
  });

  it('skips entries without an id instead of keying them wrongly', () => {
    const events = [{ status: 'confirmed' }, { id: '' }] as unknown as GoogleEvent[];
    expect(mapEvents(events, CAL)).toEqual({ upserts: [], deletions: [] });
  });
});

describe('parseRfc3339', () => {
  it('reads a time without offset in the given zone, across DST', () => {
    expect(parseRfc3339('2026-01-15T09:00:00', 'Europe/Berlin')?.toISOString()).toBe(
      '2026-01-15T08:00:00.000Z',
    );
    expect(parseRfc3339('2026-07-15T09:00:00', 'Europe/Berlin')?.toISOString()).toBe(
      '2026-07-15T07:00:00.000Z',
    );
    expect(parseRfc3339('2026-07-15T09:00:00', 'Not/AZone')?.toISOString()).toBe(
      '2026-07-15T09:00:00.000Z',
    );
    // The skipped hour reads with the offset before the gap; the repeated one is the first.
    expect(parseRfc3339('2026-03-29T02:30:00', 'Europe/Berlin')?.toISOString()).toBe(
      '2026-03-29T01:30:00.000Z',
    );
    expect(parseRfc3339('2026-10-25T02:30:00', 'Europe/Berlin')?.toISOString()).toBe(
      '2026-10-25T00:30:00.000Z',
    );
  });

  it('rejects malformed and out-of-range values', () => {
    expect(parseRfc3339('2026-02-30T09:00:00Z')).toBeNull();
    expect(parseRfc3339('yesterday')).toBeNull();
    expect(parseRfc3339(undefined)).toBeNull();
  });
});
