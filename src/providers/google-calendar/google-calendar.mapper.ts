import { normalizedItem, type ItemDeletion, type NormalizedItem } from '@pdeck/integration-sdk';
import { eventInstant, MIN_VERSION, parseRfc3339, versionOf } from './google-calendar.time.js';
import type { GoogleAttendee, GoogleEvent } from './google-calendar.types.js';

/** The calendar an event was listed from: the sync resource, plus the zone the list reported. */
export interface CalendarRef {
  id: string;
  name: string | null;
  /** `timeZone` of the events.list response; the fallback zone for zone-less times. */
  timeZone?: string;
}

export interface MappedEvents {
  upserts: NormalizedItem[];
  deletions: ItemDeletion[];
}

/**
 * Event fields kept in `raw`: what the item columns do not hold but PDeck needs to render or expand
 * an event (location, people, recurrence and the instance's place in its series, the original
 * start/end with their zones). Reminders are left out on purpose: changing them does not bump
 * `updated`, so a stored copy could never be kept current (the Calendar API discovery document,
 * https://www.googleapis.com/discovery/v1/apis/calendar/v3/rest, says so of `updated`).
 */
const RAW_FIELDS = [
  'id',
  'iCalUID',
  'etag',
  'status',
  'created',
  'updated',
  'sequence',
  'eventType',
  'location',
  'organizer',
  'creator',
  'attendees',
  'recurrence',
  'recurringEventId',
  'originalStartTime',
  'start',
  'end',
  'endTimeUnspecified',
  'transparency',
  'visibility',
  'hangoutLink',
] as const satisfies readonly (keyof GoogleEvent)[];

/**
 * Event ids are unique per calendar only, and one meeting keeps its id in every calendar it is on
 * (docs/architecture.md, "Data model"), so the calendar id is part of the key. Event ids are
 * base32hex (no ':'), so the last ':' always separates the two.
 */
export function eventExternalId(calendarId: string, eventId: string): string {
  return `${calendarId}:${eventId}`;
}

/**
 * A page of events.list as item changes. `cancelled` is Google's deletion marker: for a whole
 * event and for one hidden instance of a recurring series alike, so both become deletions.
 * Entries without an id cannot be keyed and are skipped (the API always sends one).
 */
export function mapEvents(events: readonly GoogleEvent[], calendar: CalendarRef): MappedEvents {
  const upserts: NormalizedItem[] = [];
  const deletions: ItemDeletion[] = [];
  for (const event of events) {
    if (typeof event?.id !== 'string' || event.id === '') continue;
    if (event.status === 'cancelled') deletions.push(toDeletion(event, calendar));
    else upserts.push(toItem(event, calendar));
  }
  return { upserts, deletions };
}

/** A live (confirmed or tentative) event as an item of kind 'event'. */
export function toItem(event: GoogleEvent, calendar: CalendarRef): NormalizedItem {
  const start = eventInstant(event.start, calendar.timeZone);
  const end = eventInstant(event.end, calendar.timeZone);
  return normalizedItem({
    kind: 'event',
    externalId: eventExternalId(calendar.id, event.id),
    containerId: calendar.id,
    containerName: calendar.name,
    title: event.summary ?? null,
    body: event.description ?? null,
    status: event.status === 'tentative' ? 'tentative' : 'confirmed',
    startsAt: start.at,
    endsAt: end.at,
    allDay: start.allDay,
    url: event.htmlLink ?? null,
    assignees: attendeeEmails(event.attendees),
    labels: event.eventType && event.eventType !== 'default' ? [event.eventType] : [],
    externalUpdatedAt: parseRfc3339(event.updated),
    externalVersion: versionOf(event.updated) ?? versionOf(event.created) ?? MIN_VERSION,
    raw: rawOf(event, calendar),
  });
}

/**
 * A cancelled event as a deletion. Only `id` is guaranteed on it
 * (https://www.googleapis.com/discovery/v1/apis/calendar/v3/rest), so the version is set only when
 * `updated` came along; without one the deletion is unconditional, which is right because Google
 * lists an event once per listing, in its latest state.
 *
 * A cancelled instance of a recurring series (it has `recurringEventId`) is kept as a tombstone
 * even when no row existed, with `recurringEventId` and `originalStartTime` in its raw: the series
 * is stored unexpanded, so this tombstone is the only record that the occurrence is gone
 * (https://developers.google.com/calendar/api/guides/recurringevents). Google sends `updated` on
 * such instances in practice, but the API does not promise it; without it the tombstone is stored
 * all the same (unversioned: a later live copy of the instance revives it), because losing a
 * cancellation would show a meeting that no longer takes place, while a stray tombstone of an
 * instance is harmless.
 */
export function toDeletion(event: GoogleEvent, calendar: CalendarRef): ItemDeletion {
  const version = versionOf(event.updated);
  return {
    kind: 'event',
    externalId: eventExternalId(calendar.id, event.id),
    ...(version ? { externalVersion: version } : {}),
    ...(event.recurringEventId ? { tombstoneIfUnknown: true, raw: rawOf(event, calendar) } : {}),
  };
}

/** People invited, by email, without rooms/equipment and without duplicates. */
function attendeeEmails(attendees: readonly GoogleAttendee[] | undefined): string[] {
  const emails = new Set<string>();
  for (const a of attendees ?? []) {
    if (a && !a.resource && typeof a.email === 'string' && a.email) emails.add(a.email);
  }
  return [...emails];
}

function rawOf(event: GoogleEvent, calendar: CalendarRef): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const field of RAW_FIELDS) {
    if (event[field] !== undefined) raw[field] = event[field];
  }
  // All-day dates are stored as UTC midnight; the calendar's zone says where that day is.
  if (calendar.timeZone) raw.calendarTimeZone = calendar.timeZone;
  return raw;
}
