/**
 * Wall-clock arithmetic in IANA zones, for recurrence expansion and for provider timestamps that
 * carry no offset. A "wall" time is the local date and time of a zone written as milliseconds
 * since 1970-01-01T00:00 as if that zone were UTC (so 09:00 on 2026-03-30 in Europe/Berlin is
 * Date.UTC(2026, 2, 30, 9)). Recurrence rules step on the wall clock (RFC 5545, 3.3.10: a daily
 * 09:00 stays 09:00 across a DST change), and only the result is turned into an instant of the
 * zone.
 */

export const SECOND = 1_000;
export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Whether `zone` is an IANA zone this runtime knows (Intl throws RangeError otherwise). */
export function isKnownZone(zone: string | undefined | null): zone is string {
  if (typeof zone !== 'string' || zone === '' || zone.length > 100) return false;
  try {
    formatterFor(zone);
    return true;
  } catch {
    return false;
  }
}

/**
 * The zone's offset from UTC (ms) at an instant. Intl is slow (tens of microseconds a call) and
 * an expansion asks thousands of times, so each zone's offsets are worked out once per UTC year
 * as segments between transitions (sampled weekly, each change located to the second), then
 * looked up. Two transitions less than a week apart would be seen as none; the tz database has
 * no such pair in any year a calendar event is likely to use.
 */
export function offsetAt(instantMs: number, zone: string): number {
  if (zone === 'UTC') return 0;
  const segments = segmentsOf(zone, new Date(instantMs).getUTCFullYear());
  let offset = segments[0].offset;
  for (const seg of segments) {
    if (seg.start > instantMs) break;
    offset = seg.offset;
  }
  return offset;
}

interface Segment {
  start: number;
  offset: number;
}

const segmentCache = new Map<string, Segment[]>();

function segmentsOf(zone: string, year: number): Segment[] {
  const key = `${zone}\u0000${year}`;
  let segments = segmentCache.get(key);
  if (segments) return segments;
  const lo = utcMidnight(year, 0, 1);
  const hi = utcMidnight(year + 1, 0, 1);
  segments = [{ start: Number.NEGATIVE_INFINITY, offset: intlOffset(lo, zone) }];
  let prevAt = lo;
  let prevOffset = segments[0].offset;
  for (let at = lo + 7 * DAY; ; at = Math.min(at + 7 * DAY, hi)) {
    const offset = intlOffset(at, zone);
    if (offset !== prevOffset) {
      // The first second with the new offset, between the two samples.
      let a = prevAt;
      let b = at;
      while (b - a > SECOND) {
        const mid = a + Math.floor((b - a) / 2 / SECOND) * SECOND;
        if (intlOffset(mid, zone) === prevOffset) a = mid;
        else b = mid;
      }
      segments.push({ start: b, offset });
      prevOffset = offset;
    }
    prevAt = at;
    if (at >= hi) break;
  }
  if (segmentCache.size >= 5_000) segmentCache.clear();
  segmentCache.set(key, segments);
  return segments;
}

/** The offset at an instant, straight from Intl. */
function intlOffset(instantMs: number, zone: string): number {
  const parts = formatterFor(zone).formatToParts(new Date(instantMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const bc = parts.find((p) => p.type === 'era')?.value === 'BC';
  const wall =
    utcMidnight(bc ? 1 - get('year') : get('year'), get('month') - 1, get('day')) +
    get('hour') * HOUR +
    get('minute') * MINUTE +
    get('second') * SECOND;
  const seconds = instantMs - (((instantMs % SECOND) + SECOND) % SECOND);
  return wall - seconds;
}

/** The wall time of an instant in a zone. */
export function wallOf(instantMs: number, zone: string): number {
  return instantMs + offsetAt(instantMs, zone);
}

/**
 * The instant of a wall time in a zone, as RFC 5545 (3.3.5) reads local times around DST
 * changes: a time that occurs twice (the repeated hour in autumn) is the first of the two; a time
 * that does not exist (the skipped hour in spring) is read with the offset before the gap, so
 * 02:30 on the morning clocks go from 02:00 to 03:00 becomes 03:30.
 */
export function instantOf(wallMs: number, zone: string): number {
  if (zone === 'UTC') return wallMs;
  const before = offsetAt(wallMs - DAY, zone);
  const after = offsetAt(wallMs + DAY, zone);
  const candidates = [wallMs - before, wallMs - after].filter((t) => wallOf(t, zone) === wallMs);
  if (candidates.length > 0) return Math.min(...candidates);
  return wallMs - before;
}

/** Day number (days since 1970-01-01) of a wall time. */
export function dayOf(wallMs: number): number {
  return Math.floor(wallMs / DAY);
}

/** Calendar fields of a day number; month 1-12; weekday 0 = Monday ... 6 = Sunday. */
export function ymdOf(day: number): { year: number; month: number; day: number; weekday: number } {
  const d = new Date(day * DAY);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    weekday: (d.getUTCDay() + 6) % 7,
  };
}

/** Day number of a calendar date; month 1-12 (out-of-range months and days roll over). */
export function dayNumber(year: number, month: number, day: number): number {
  return Math.round(utcMidnight(year, month - 1, day) / DAY);
}

/** UTC midnight of a date, for every year (Date.UTC would read years 0-99 as 1900-1999). */
function utcMidnight(year: number, monthIndex: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, monthIndex, day);
  return d.getTime();
}

/** Weekday of a day number: 0 = Monday ... 6 = Sunday. */
export function weekdayOf(day: number): number {
  // 1970-01-01 was a Thursday (3).
  return (((day + 3) % 7) + 7) % 7;
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  return [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

/** `YYYY-MM-DD` of a day number. */
export function isoDateOf(day: number): string {
  const { year, month, day: d } = ymdOf(day);
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Day number of a `YYYY-MM-DD` date; null when it is not a real date. */
export function dayOfIsoDate(text: string): number | null {
  const m = ISO_DATE.exec(text);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  return dayNumber(year, month, day);
}
