import { asciiJson } from '@pdeck/integration-sdk/sandbox';
import type { CalendarData } from './calendar-directory.js';
import { newEventId } from './event-factory.js';
import type { BaseGenerator } from './event-store.js';
import { htmlLinkFor, type EventPerson } from './event-types.js';

const TITLES = [
  'Standup',
  'Design review',
  '1:1',
  'Customer call',
  'Planning',
  'Interview',
  'Lunch',
  'Demo',
];
const HALF_HOUR = 1_800_000;
const DAY = 86_400_000;

/**
 * `count` deterministic events for benchmarks, generated on demand from their position: no
 * per-event memory until one is modified. Ids are `lg` + 4 chars of the calendar + 7 base32hex
 * digits of the index, so `indexOf` is a parse, not a lookup. `json(i)` writes the same event
 * straight to ASCII JSON (no object, no JSON.stringify), the fast path for 100k-event syncs.
 */
export function largeGenerator(
  calendar: CalendarData,
  owner: EventPerson,
  count: number,
  anchorMs: number,
): BaseGenerator {
  const prefix = `lg${newEventId(calendar.id).slice(0, 4)}`;
  const firstStart = Math.floor(anchorMs / DAY) * DAY - 180 * DAY;
  const createdMs = firstStart - 30 * DAY;
  const created = new Date(createdMs).toISOString();
  const organizer = { email: owner.email, self: true };
  const organizerJson = asciiJson(organizer);
  const attendeeSelf = {
    email: owner.email,
    organizer: true,
    self: true,
    responseStatus: 'accepted' as const,
  };
  const attendeeSelfJson = asciiJson(attendeeSelf);
  const idAt = (i: number): string => prefix + i.toString(32).padStart(7, '0');

  /** The fields that vary per event, shared by `make` and `json` so both describe one event. */
  const facts = (i: number) => {
    const id = idAt(i);
    const startMs = firstStart + i * HALF_HOUR;
    const day = startMs - (startMs % DAY);
    const allDay = i % 10 === 9;
    const updatedMs = createdMs + i;
    return {
      id,
      etag: `"${updatedMs}000"`,
      htmlLink: htmlLinkFor(id, calendar.id),
      updated: fastIso(updatedMs, true),
      summary: `${TITLES[i % TITLES.length]} #${i}`,
      start: allDay
        ? { date: isoDay(day) }
        : { dateTime: fastIso(startMs, false), timeZone: 'UTC' },
      end: allDay
        ? { date: isoDay(day + DAY) }
        : { dateTime: fastIso(startMs + (1 + (i % 4)) * 900_000, false), timeZone: 'UTC' },
      description: i % 3 === 0 ? `Generated event ${i} for load tests.` : undefined,
      location: i % 4 === 0 ? `Room ${(i % 40) + 1}` : undefined,
      guest: i % 5 === 0 ? `guest${i % 50}@example.org` : undefined,
    };
  };

  return {
    count,
    idAt,
    indexOf(id) {
      if (!id.startsWith(prefix) || id.length !== prefix.length + 7) return undefined;
      const index = parseInt(id.slice(prefix.length), 32);
      return Number.isInteger(index) && index < count ? index : undefined;
    },
    make(i) {
      const f = facts(i);
      return {
        kind: 'calendar#event',
        etag: f.etag,
        id: f.id,
        status: 'confirmed',
        htmlLink: f.htmlLink,
        created,
        updated: f.updated,
        summary: f.summary,
        ...(f.description ? { description: f.description } : {}),
        ...(f.location ? { location: f.location } : {}),
        creator: organizer,
        organizer,
        start: f.start,
        end: f.end,
        iCalUID: `${f.id}@google.com`,
        sequence: 0,
        ...(f.guest
          ? {
              attendees: [attendeeSelf, { email: f.guest, responseStatus: 'needsAction' as const }],
            }
          : {}),
        reminders: { useDefault: true },
        eventType: 'default',
      };
    },
    json(i) {
      // Every interpolated value is generated ASCII without quotes or backslashes: no escaping needed.
      const f = facts(i);
      const when = (w: { date?: string; dateTime?: string }) =>
        w.date ? `{"date":"${w.date}"}` : `{"dateTime":"${w.dateTime}","timeZone":"UTC"}`;
      return (
        `{"kind":"calendar#event","etag":${JSON.stringify(f.etag)},"id":"${f.id}","status":"confirmed",` +
        `"htmlLink":"${f.htmlLink}","created":"${created}","updated":"${f.updated}","summary":"${f.summary}",` +
        (f.description ? `"description":"${f.description}",` : '') +
        (f.location ? `"location":"${f.location}",` : '') +
        `"creator":${organizerJson},"organizer":${organizerJson},"start":${when(f.start)},"end":${when(f.end)},` +
        `"iCalUID":"${f.id}@google.com","sequence":0,` +
        (f.guest
          ? `"attendees":[${attendeeSelfJson},{"email":"${f.guest}","responseStatus":"needsAction"}],`
          : '') +
        `"reminders":{"useDefault":true},"eventType":"default"}`
      );
    },
  };
}

const TWO = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));
const THREE = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));
const dayStrings = new Map<number, string>();

/** `YYYY-MM-DD` of a UTC day, memoized: a 100k calendar spans only ~2,100 days. */
function isoDay(ms: number): string {
  const day = Math.floor(ms / DAY);
  let text = dayStrings.get(day);
  if (text === undefined) {
    text = new Date(day * DAY).toISOString().slice(0, 10);
    if (dayStrings.size < 100_000) dayStrings.set(day, text);
  }
  return text;
}

/**
 * toISOString without Date: it dominated generation time. Google writes `updated` with
 * milliseconds and UTC `dateTime`s without: `2026-03-06T14:00:00Z`.
 */
function fastIso(ms: number, millis: boolean): string {
  const rem = ((ms % DAY) + DAY) % DAY;
  const time = `${isoDay(ms)}T${TWO[Math.floor(rem / 3_600_000)]}:${TWO[Math.floor(rem / 60_000) % 60]}:${TWO[Math.floor(rem / 1000) % 60]}`;
  return millis ? `${time}.${THREE[rem % 1000]}Z` : `${time}Z`;
}
