import { type Budget, generate, parseRule, RuleError, type RuleUntil } from './recurrence-rule.js';
import {
  DAY,
  dayNumber,
  dayOf,
  dayOfIsoDate,
  daysInMonth,
  HOUR,
  instantOf,
  isKnownZone,
  isoDateOf,
  MINUTE,
  SECOND,
  wallOf,
} from '../core/time/wall-time.js';

/**
 * Expands recurring events into occurrences inside a window: RRULE (RFC 5545 3.3.10), RDATE and
 * EXDATE (3.8.5), plus the provider's exceptions (a modified instance replaces the occurrence it
 * was generated at; a cancelled one removes it), as Google Calendar describes them in
 * https://developers.google.com/calendar/api/guides/recurringevents. Pure: no I/O, no clock.
 */

/** When an event starts or ends: a calendar date (all-day events) or an instant (epoch ms). */
export type EventTime = { date: string } | { instant: number };

export interface SeriesInput {
  /** The master item. */
  itemId: string;
  /** RRULE, RDATE and EXDATE lines as the provider sent them. */
  recurrence: readonly string[];
  /** The first occurrence (DTSTART) and its end. */
  start: EventTime;
  end: EventTime;
  /** IANA zone the series repeats in (wall-clock steps); 'UTC' when none is known. */
  zone: string;
}

export interface ExceptionInput {
  /** The exception's own item. */
  itemId: string;
  /** The start of the occurrence it replaces or removes (Google: `originalStartTime`). */
  originalStart: EventTime;
  /** True for a cancelled instance: the occurrence is removed. */
  cancelled: boolean;
  /** Where a modified instance now is; null for cancelled ones. */
  start: EventTime | null;
  end: EventTime | null;
}

/** [from, to) as instants (epoch ms). */
export interface Window {
  from: number;
  to: number;
}

export interface Occurrence {
  /** The master for a generated occurrence, the exception's item for a modified one. */
  itemId: string;
  start: EventTime;
  end: EventTime;
  /** Instants of start and end, for ordering and overlap (all-day: midnights in the zone). */
  startMs: number;
  endMs: number;
  /** Where the rule put it (equal to `start` unless an exception moved it). */
  originalStart: EventTime;
  /** True when the occurrence comes from an exception item. */
  exception: boolean;
}

export interface SeriesExpansion {
  occurrences: Occurrence[];
  /** Set when the series was left out: why, in words. */
  skipped?: string;
}

export interface ExpansionLimits {
  /** Occurrences one series may generate from its start to the window's end. */
  maxOccurrences: number;
  /** Periods and days one series may examine. */
  maxWork: number;
}

/** Beyond these a series is skipped (and reported), so one odd series cannot stall a request. */
export const DEFAULT_LIMITS: ExpansionLimits = { maxOccurrences: 5_000, maxWork: 200_000 };

/** Whether [startMs, endMs) meets [from, to); an instant-long event counts at its start. */
export function overlaps(startMs: number, endMs: number, window: Window): boolean {
  if (startMs >= window.to) return false;
  return endMs > startMs ? endMs > window.from : startMs >= window.from;
}

/** Instants of an event's start and end; an all-day date is its midnight in `zone`. */
export function boundsOf(
  start: EventTime,
  end: EventTime | null,
  zone: string,
): { startMs: number; endMs: number } | null {
  const startMs = instantOfTime(start, zone);
  if (startMs === null) return null;
  const endMs = end === null ? startMs : instantOfTime(end, zone);
  return { startMs, endMs: endMs === null || endMs < startMs ? startMs : endMs };
}

/** A non-recurring event as an occurrence when it meets the window; null otherwise. */
export function singleOccurrence(
  itemId: string,
  start: EventTime,
  end: EventTime | null,
  zone: string,
  window: Window,
): Occurrence | null {
  const bounds = boundsOf(start, end, zone);
  if (!bounds || !overlaps(bounds.startMs, bounds.endMs, window)) return null;
  return {
    itemId,
    start,
    end: end ?? start,
    ...bounds,
    originalStart: start,
    exception: false,
  };
}

/** The occurrences of one series that meet the window, ordered by start then item id. */
export function expandSeries(
  series: SeriesInput,
  exceptions: readonly ExceptionInput[],
  window: Window,
  limits: ExpansionLimits = DEFAULT_LIMITS,
): SeriesExpansion {
  const zone = isKnownZone(series.zone) ? series.zone : 'UTC';
  const allDay = 'date' in series.start;
  const shape = allDay ? allDayShape(series) : timedShape(series, zone);
  if (!shape) return { occurrences: [], skipped: 'start or end is not readable' };

  const fromWall = wallOf(window.from, zone) - shape.span - DAY;
  const toWall = wallOf(window.to, zone) + DAY;
  const parsed = parseLines(series.recurrence, allDay, zone);
  if (typeof parsed === 'string') return { occurrences: [], skipped: parsed };

  const budget: Budget = { occurrences: limits.maxOccurrences, work: limits.maxWork };
  const walls = new Set<number>();
  if (parsed.rules.length === 0 && shape.dtstart >= fromWall && shape.dtstart <= toWall) {
    walls.add(shape.dtstart);
  }
  for (const { rule, until } of parsed.rules) {
    const result = generate(rule, {
      dtstart: shape.dtstart,
      until: until === undefined ? undefined : untilWall(until, allDay, zone),
      from: fromWall,
      to: toWall,
      budget,
    });
    if (result.exhausted) {
      const reason =
        budget.occurrences < 0
          ? `more than ${limits.maxOccurrences} occurrences from the series start to the window end`
          : 'the recurrence rule needs too much work to expand';
      return { occurrences: [], skipped: reason };
    }
    for (const w of result.walls) walls.add(w);
  }
  for (const rdate of parsed.rdates) {
    const w = allDay ? rdate.day * DAY : rdateWall(rdate, shape.dtstart, zone);
    if (w >= fromWall && w <= toWall) walls.add(w);
  }

  // Exceptions by the occurrence they stand for.
  const replaced = new Set<string>();
  for (const ex of exceptions) {
    const key = keyOfOriginal(ex.originalStart, allDay, zone);
    if (key !== null) replaced.add(key);
  }

  const occurrences: Occurrence[] = [];
  let previous = Number.NaN;
  for (const wall of [...walls].sort((a, b) => a - b)) {
    const occ = shape.occurrenceAt(wall);
    // Two wall times can be one instant: 02:30 in the spring-forward gap is read as 03:30.
    if (occ.startMs === previous) continue;
    previous = occ.startMs;
    if (parsed.isExcluded(occ, wall)) continue;
    if (replaced.has(keyOfTime(occ.start, allDay, zone))) continue;
    if (overlaps(occ.startMs, occ.endMs, window)) occurrences.push(occ);
  }
  for (const ex of exceptions) {
    if (ex.cancelled || ex.start === null) continue;
    const bounds = boundsOf(ex.start, ex.end, zone);
    if (!bounds || !overlaps(bounds.startMs, bounds.endMs, window)) continue;
    occurrences.push({
      itemId: ex.itemId,
      start: ex.start,
      end: ex.end ?? ex.start,
      ...bounds,
      originalStart: ex.originalStart,
      exception: true,
    });
  }
  occurrences.sort(compareOccurrences);
  return { occurrences };
}

/** Start, then item id, then original start: a total order for paging. */
export function compareOccurrences(a: Occurrence, b: Occurrence): number {
  if (a.startMs !== b.startMs) return a.startMs - b.startMs;
  if (a.itemId !== b.itemId) return a.itemId < b.itemId ? -1 : 1;
  return 0;
}

interface Shape {
  /** DTSTART as a wall time. */
  dtstart: number;
  /** Length of one occurrence in ms (margin for occurrences that begin before the window). */
  span: number;
  occurrenceAt(wall: number): Occurrence;
}

/**
 * A timed series: each occurrence lasts what the first one lasts, measured in real time (RFC 5545
 * 3.8.5.3: with DTEND "the same exact duration will apply to all the members").
 */
function timedShape(series: SeriesInput, zone: string): Shape | null {
  if (!('instant' in series.start) || !('instant' in series.end)) return null;
  const startMs = series.start.instant;
  const duration = Math.max(0, series.end.instant - startMs);
  return {
    dtstart: wallOf(startMs, zone),
    span: duration,
    occurrenceAt: (wall) => {
      const at = instantOf(wall, zone);
      return {
        itemId: series.itemId,
        start: { instant: at },
        end: { instant: at + duration },
        startMs: at,
        endMs: at + duration,
        originalStart: { instant: at },
        exception: false,
      };
    },
  };
}

/** An all-day series: dates, each as many days long as the first (at least one). */
function allDayShape(series: SeriesInput): Shape | null {
  if (!('date' in series.start)) return null;
  const first = dayOfIsoDate(series.start.date);
  if (first === null) return null;
  const endDay = 'date' in series.end ? dayOfIsoDate(series.end.date) : null;
  const days = endDay !== null && endDay > first ? endDay - first : 1;
  const zone = isKnownZone(series.zone) ? series.zone : 'UTC';
  return {
    dtstart: first * DAY,
    span: days * DAY,
    occurrenceAt: (wall) => {
      const day = dayOf(wall);
      const start = { date: isoDateOf(day) };
      return {
        itemId: series.itemId,
        start,
        end: { date: isoDateOf(day + days) },
        startMs: instantOf(day * DAY, zone),
        endMs: instantOf((day + days) * DAY, zone),
        originalStart: start,
        exception: false,
      };
    },
  };
}

function instantOfTime(t: EventTime, zone: string): number | null {
  if ('instant' in t) return Number.isFinite(t.instant) ? t.instant : null;
  const day = dayOfIsoDate(t.date);
  return day === null ? null : instantOf(day * DAY, isKnownZone(zone) ? zone : 'UTC');
}

/** The key an occurrence is matched on: its instant, or its date for all-day series. */
function keyOfTime(t: EventTime, allDay: boolean, zone: string): string {
  if ('date' in t) return `d:${t.date}`;
  return allDay ? `d:${isoDateOf(dayOf(wallOf(t.instant, zone)))}` : `t:${t.instant}`;
}

function keyOfOriginal(t: EventTime, allDay: boolean, zone: string): string | null {
  if ('date' in t) return allDay ? `d:${t.date}` : null;
  return keyOfTime(t, allDay, zone);
}

/** An RDATE or EXDATE value: a date, or a date-time (UTC, in a TZID, or floating). */
interface DateValue {
  day: number;
  /** Wall time of a date-time value in its own zone (or floating). */
  wall?: number;
  /** Instant of a date-time value. */
  instant?: number;
}

interface ParsedLines {
  rules: { rule: ReturnType<typeof parseRule>; until?: RuleUntil }[];
  rdates: DateValue[];
  isExcluded(occ: Occurrence, wall: number): boolean;
}

const VALUE_TEXT = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/;

/** RRULE, RDATE and EXDATE lines; a string when the series cannot be read. */
function parseLines(lines: readonly string[], allDay: boolean, zone: string): ParsedLines | string {
  const rules: ParsedLines['rules'] = [];
  const rdates: DateValue[] = [];
  const exInstants = new Set<number>();
  const exDays = new Set<number>();
  for (const raw of lines) {
    if (typeof raw !== 'string') continue;
    const line = raw.trim();
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const [name, ...params] = line.slice(0, colon).split(';');
    const value = line.slice(colon + 1);
    switch (name.toUpperCase()) {
      case 'RRULE':
        try {
          const rule = parseRule(value);
          rules.push({ rule, until: rule.until });
        } catch (e) {
          if (e instanceof RuleError) return `recurrence rule not understood: ${e.message}`;
          throw e;
        }
        break;
      case 'RDATE':
      case 'EXDATE': {
        const tzid = paramOf(params, 'TZID');
        // PERIOD values (RDATE only) are not supported: such a value is ignored.
        if (paramOf(params, 'VALUE')?.toUpperCase() === 'PERIOD') break;
        const valueZone = tzid && isKnownZone(tzid) ? tzid : zone;
        for (const text of value.split(',')) {
          const v = parseDateValue(text.trim(), valueZone);
          if (!v) continue;
          if (name.toUpperCase() === 'RDATE') rdates.push(v);
          else if (allDay || v.instant === undefined)
            exDays.add(allDay ? dayInZone(v, zone) : v.day);
          else exInstants.add(v.instant);
        }
        break;
      }
      default:
      // EXRULE (deprecated in RFC 5545) and unknown lines are ignored.
    }
  }
  return {
    rules,
    rdates,
    isExcluded: (occ, wall) => {
      if (allDay) return exDays.has(dayOf(wall));
      return exInstants.has(occ.startMs) || exDays.has(dayOf(wall));
    },
  };
}

function paramOf(params: string[], name: string): string | undefined {
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq > 0 && p.slice(0, eq).toUpperCase() === name) return p.slice(eq + 1).replace(/"/g, '');
  }
  return undefined;
}

/** One RDATE/EXDATE value; a date-time without Z is read in `zone` (its TZID or the series'). */
function parseDateValue(text: string, zone: string): DateValue | null {
  const m = VALUE_TEXT.exec(text);
  if (!m) return null;
  const [year, month, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || d < 1 || d > daysInMonth(year, month)) return null;
  const day = dayNumber(year, month, d);
  if (m[4] === undefined) return { day };
  const [h, mi, s] = [Number(m[4]), Number(m[5]), Number(m[6])];
  if (h > 23 || mi > 59 || s > 59) return null;
  const wall = day * DAY + h * HOUR + mi * MINUTE + s * SECOND;
  if (m[7]) return { day, instant: wall };
  return { day, wall, instant: instantOf(wall, zone) };
}

/** The date a value falls on in the series' zone (for all-day series). */
function dayInZone(v: DateValue, zone: string): number {
  if (v.instant === undefined) return v.day;
  return dayOf(wallOf(v.instant, zone));
}

/** An RDATE of a timed series as a wall time of the series' zone. */
function rdateWall(v: DateValue, dtstart: number, zone: string): number {
  if (v.instant !== undefined) return wallOf(v.instant, zone);
  // A date in a timed series: that day at DTSTART's time of day.
  return v.day * DAY + (dtstart - dayOf(dtstart) * DAY);
}

/** UNTIL as an inclusive wall time of the series' zone. */
function untilWall(until: RuleUntil, allDay: boolean, zone: string): number {
  if (until.form === 'utc') return wallOf(until.ms, zone);
  // A bare date on a timed series means through the end of that day.
  if (until.form === 'date' && !allDay) return until.ms + DAY - 1;
  return until.ms;
}
