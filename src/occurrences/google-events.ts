import { parseRfc3339 } from '../providers/google-calendar/google-calendar.time.js';
import type { EventTime, ExceptionInput, SeriesInput } from './occurrence-expander.js';
import { dayOfIsoDate, isKnownZone } from '../core/time/wall-time.js';

/**
 * Google Calendar events, as stored in an item's `raw` (see google-calendar.mapper.ts), read into
 * the expander's inputs. Field meanings: https://developers.google.com/calendar/api/v3/reference/events
 */

type Raw = Record<string, unknown>;

function record(value: unknown): Raw | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Raw)
    : null;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The zone an event repeats in: its start's `timeZone` (the zone it was created in), else the
 * calendar's zone, else null (the caller reads it as UTC). Unknown names count as absent.
 */
export function googleZone(raw: unknown): string | null {
  const r = record(raw);
  const own = text(record(r?.start)?.timeZone);
  if (isKnownZone(own)) return own;
  const calendar = text(r?.calendarTimeZone);
  return isKnownZone(calendar) ? calendar : null;
}

/** An EventDateTime (`date` or `dateTime`) as an EventTime; null when unreadable. */
export function googleTime(value: unknown, zone: string): EventTime | null {
  const t = record(value);
  const date = text(t?.date);
  if (date !== undefined) return dayOfIsoDate(date) === null ? null : { date };
  const own = text(t?.timeZone);
  const at = parseRfc3339(text(t?.dateTime), isKnownZone(own) ? own : zone);
  return at === null ? null : { instant: at.getTime() };
}

/** The `recurrence` lines of a master; null when the event does not recur. */
export function googleRecurrence(raw: unknown): string[] | null {
  const lines = record(raw)?.recurrence;
  if (!Array.isArray(lines)) return null;
  const strings = lines.filter((l): l is string => typeof l === 'string');
  return strings.length > 0 ? strings : null;
}

/** A recurring master as a series; null when it does not recur or its times are unreadable. */
export function googleSeries(itemId: string, raw: unknown): SeriesInput | null {
  const recurrence = googleRecurrence(raw);
  if (!recurrence) return null;
  const zone = googleZone(raw) ?? 'UTC';
  const r = record(raw)!;
  const start = googleTime(r.start, zone);
  const end = googleTime(r.end, zone) ?? start;
  if (!start || !end) return null;
  return { itemId, recurrence, start, end, zone };
}

/**
 * An instance of a series stored as its own item (`recurringEventId` + `originalStartTime`): a
 * modified instance when live, a cancellation when it is a tombstone or says `cancelled`. Null
 * when `originalStartTime` is unreadable (it cannot be matched to an occurrence).
 */
export function googleException(
  itemId: string,
  raw: unknown,
  deleted: boolean,
  seriesZone: string,
): ExceptionInput | null {
  const r = record(raw);
  if (!r || !text(r.recurringEventId)) return null;
  const originalStart = googleTime(r.originalStartTime, seriesZone);
  if (!originalStart) return null;
  const cancelled = deleted || r.status === 'cancelled';
  const start = cancelled ? null : googleTime(r.start, seriesZone);
  const end = cancelled ? null : (googleTime(r.end, seriesZone) ?? start);
  return { itemId, originalStart, cancelled: cancelled || start === null, start, end };
}
