import { createHash, randomBytes } from 'node:crypto';
import type { CalendarData } from './calendar-directory.js';
import {
  htmlLinkFor,
  type CalendarEvent,
  type EventInput,
  type EventPerson,
} from './event-types.js';
import { formatDateTime } from '@pdeck/integration-sdk/sandbox';

const BASE32HEX = '0123456789abcdefghijklmnopqrstuv';

/** A Google-style event id: 26 base32hex characters, deterministic when a seed is given. */
export function newEventId(seed?: string): string {
  const bytes = seed === undefined ? randomBytes(17) : createHash('sha1').update(seed).digest();
  let id = '';
  for (let i = 0; i < 26; i++) id += BASE32HEX[bytes[i % bytes.length] % 32];
  return id;
}

/**
 * A complete event in Google's shape from partial input. `updated` and `etag` are placeholders:
 * the store stamps them on write.
 */
export function buildEvent(
  calendar: CalendarData,
  organizer: EventPerson,
  input: EventInput,
  nowMs: number,
): CalendarEvent {
  const id = input.id ?? newEventId();
  const tz = calendar.timeZone;
  const startMs = Math.ceil(nowMs / 3_600_000) * 3_600_000 + 3_600_000;
  const nowIso = new Date(nowMs).toISOString();
  return {
    kind: 'calendar#event',
    etag: '""',
    id,
    status: input.status ?? 'confirmed',
    htmlLink: htmlLinkFor(id, calendar.id),
    created: input.created ?? nowIso,
    updated: nowIso,
    summary: input.summary ?? 'New event',
    ...pick(input, ['description', 'location', 'colorId']),
    creator: input.creator ?? { ...organizer },
    organizer: input.organizer ?? organizer,
    start: input.start ?? { dateTime: formatDateTime(startMs, tz), timeZone: tz },
    end: input.end ?? { dateTime: formatDateTime(startMs + 1_800_000, tz), timeZone: tz },
    ...pick(input, [
      'recurrence',
      'recurringEventId',
      'originalStartTime',
      'transparency',
      'visibility',
    ]),
    iCalUID: input.iCalUID ?? `${id}@google.com`,
    sequence: input.sequence ?? 0,
    ...pick(input, ['attendees', 'guestsCanInviteOthers', 'endTimeUnspecified']),
    reminders: input.reminders ?? { useDefault: true },
    eventType: input.eventType ?? 'default',
  };
}

function pick<K extends keyof EventInput>(
  input: EventInput,
  keys: K[],
): Partial<Pick<EventInput, K>> {
  const out: Partial<Pick<EventInput, K>> = {};
  for (const k of keys) if (input[k] !== undefined) out[k] = input[k];
  return out;
}

/**
 * Writes a seeded event: its id derives from calendar, title, start and status, so the demo
 * data has the same ids on every run; `created` is two weeks back.
 */
export function seedEvent(
  cal: CalendarData,
  organizer: EventPerson,
  input: EventInput,
): CalendarEvent {
  const seedId = `${cal.id}:${input.summary}:${JSON.stringify(input.start)}:${input.status ?? ''}`;
  const now = Date.now();
  const created = new Date(now - 14 * 86_400_000).toISOString();
  return cal.store.put(
    buildEvent(cal, organizer, { id: newEventId(seedId), created, ...input }, now),
  );
}
