import { isoDate, localParts, wallToUtc } from '@pdeck/integration-sdk/sandbox';

/** One occurrence: instants for timed events, a `YYYY-MM-DD` day for all-day ones. */
export interface Occurrence {
  startMs: number;
  /** Set for all-day series. */
  date?: string;
}

/** Unbounded rules (no COUNT/UNTIL) are cut here so expansion stays finite. */
export const UNBOUNDED_RULE_CAP = 250;

const DAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];

interface Rule {
  freq: string;
  interval: number;
  count?: number;
  untilMs?: number;
  byDay?: number[];
}

/**
 * Expands the subset of RFC 5545 the sandbox seeds and tests use: FREQ=DAILY|WEEKLY with
 * INTERVAL, COUNT, UNTIL and (weekly) BYDAY, evaluated on the wall clock of the event's zone so
 * a 10:00 meeting stays at 10:00 across DST. Other FREQs yield just the first occurrence;
 * EXDATE/RDATE lines are ignored (cancelled exceptions express removed instances instead).
 */
export function expandRecurrence(
  recurrence: string[],
  start: { startMs: number; date?: string },
  tz: string,
): Occurrence[] {
  const line = recurrence.find((l) => l.startsWith('RRULE:'));
  if (!line) return [start];
  const rule = parseRule(line.slice('RRULE:'.length));
  const allDay = start.date !== undefined;
  const base = allDay
    ? localParts(Date.parse(`${start.date}T00:00:00Z`), 'UTC')
    : localParts(start.startMs, tz);
  const limit = rule.count ?? UNBOUNDED_RULE_CAP;
  const out: Occurrence[] = [];
  const emit = (dayOffset: number): boolean => {
    const day = Date.UTC(base.y, base.mo - 1, base.d + dayOffset);
    const p = localParts(day, 'UTC');
    const startMs = allDay ? day : wallToUtc(p.y, p.mo, p.d, base.h, base.mi, base.s, tz);
    if (rule.untilMs !== undefined && startMs > rule.untilMs) return false;
    out.push(allDay ? { startMs, date: isoDate(day) } : { startMs });
    return out.length < limit;
  };
  if (rule.freq === 'DAILY') {
    for (let k = 0; emit(k * rule.interval); k++);
  } else if (rule.freq === 'WEEKLY') {
    const days = (rule.byDay ?? [base.weekday]).map((d) => (d + 6) % 7).sort((a, b) => a - b);
    const mondayOffset = -((base.weekday + 6) % 7);
    weeks: for (let w = 0; ; w += rule.interval) {
      for (const d of days) {
        const offset = mondayOffset + w * 7 + d;
        if (offset < 0) continue;
        if (!emit(offset)) break weeks;
      }
    }
  } else {
    return [start];
  }
  return out;
}

function parseRule(text: string): Rule {
  const fields = new Map(text.split(';').map((kv) => kv.split('=') as [string, string]));
  const until = fields.get('UNTIL');
  return {
    freq: fields.get('FREQ') ?? 'DAILY',
    interval: Math.max(1, Number(fields.get('INTERVAL') ?? 1)),
    count: fields.has('COUNT') ? Number(fields.get('COUNT')) : undefined,
    untilMs: until ? parseUntil(until) : undefined,
    byDay: fields
      .get('BYDAY')
      ?.split(',')
      .map((d) => DAYS.indexOf(d.slice(-2)))
      .filter((d) => d >= 0),
  };
}

/** UNTIL is `20260630T000000Z` or a bare date `20260630` (inclusive, end of that day). */
function parseUntil(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z?)?$/.exec(value);
  if (!m) return Number.POSITIVE_INFINITY;
  const [, y, mo, d, h, mi, s] = m;
  if (h === undefined) return Date.UTC(+y, +mo - 1, +d, 23, 59, 59);
  return Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
}
