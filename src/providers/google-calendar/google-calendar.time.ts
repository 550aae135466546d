import { instantOf, isKnownZone } from '../../core/time/wall-time.js';
import type { GoogleEventDateTime } from './google-calendar.types.js';

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})?$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Sorts below every real version: a live event without `updated` or `created` (never seen). */
export const MIN_VERSION = '0000-01-01T00:00:00.000Z';

interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
}

/**
 * An RFC 3339 timestamp as an instant. Parsed by hand rather than with Date.parse: fractions
 * longer than milliseconds are truncated deterministically, and a timestamp without an offset is
 * read in `zone` (UTC when absent or unknown) instead of in this server's local zone.
 */
export function parseRfc3339(text: string | undefined, zone?: string): Date | null {
  const m = text ? RFC3339.exec(text) : null;
  if (!m) return null;
  const wall: WallTime = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4]),
    minute: Number(m[5]),
    second: Number(m[6]),
    ms: Number((m[7] ?? '').padEnd(3, '0').slice(0, 3)),
  };
  const local = wallToUtcMs(wall);
  if (local === null) return null;
  const offset = m[8];
  // No offset: Google's responses carry one (RFC 3339 `dateTime`); reading a zone-less value in
  // the event's zone is the fallback, since a guess in the server's zone would shift the event.
  if (!offset) return new Date(isKnownZone(zone) ? instantOf(local, zone) : local);
  if (offset.toUpperCase() === 'Z') return new Date(local);
  const sign = offset.startsWith('-') ? -1 : 1;
  const minutes = Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6));
  return new Date(local - sign * minutes * 60_000);
}

/** An all-day date as UTC midnight of that calendar date (see docs/integrations/google-calendar.md). */
export function parseDate(text: string | undefined): Date | null {
  const m = text ? DATE_ONLY.exec(text) : null;
  if (!m) return null;
  const ms = wallToUtcMs({
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: 0,
    minute: 0,
    second: 0,
    ms: 0,
  });
  return ms === null ? null : new Date(ms);
}

/** The instant of an EventDateTime; `allDay` when it is a date. `zone` is the calendar's. */
export function eventInstant(
  t: GoogleEventDateTime | undefined,
  zone?: string,
): { at: Date | null; allDay: boolean } {
  if (t?.dateTime) return { at: parseRfc3339(t.dateTime, t.timeZone ?? zone), allDay: false };
  if (t?.date) return { at: parseDate(t.date), allDay: true };
  return { at: null, allDay: false };
}

/**
 * `updated` as a fixed-width, byte-sortable version: UTC ISO 8601 with milliseconds
 * (`2026-03-04T10:14:59.121Z`, 24 characters for years 0000-9999). Undefined when unreadable.
 */
export function versionOf(timestamp: string | undefined): string | undefined {
  const at = parseRfc3339(timestamp);
  if (!at) return undefined;
  const year = at.getUTCFullYear();
  if (year < 0 || year > 9999) return undefined;
  return at.toISOString();
}

/** Date.UTC of a wall time, or null when a field is out of range (no silent roll-over). */
function wallToUtcMs(w: WallTime): number | null {
  const ms = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.ms);
  const d = new Date(ms);
  if (d.getUTCFullYear() !== w.year || d.getUTCMonth() !== w.month - 1) return null;
  if (d.getUTCDate() !== w.day || d.getUTCHours() !== w.hour) return null;
  if (d.getUTCMinutes() !== w.minute || d.getUTCSeconds() !== w.second) return null;
  return ms;
}
