import {
  DAY,
  dayNumber,
  dayOf,
  daysInMonth,
  HOUR,
  isLeapYear,
  MINUTE,
  SECOND,
  weekdayOf,
  ymdOf,
} from '../core/time/wall-time.js';

/**
 * RFC 5545 recurrence rules (section 3.3.10, https://www.rfc-editor.org/rfc/rfc5545#section-3.3.10)
 * on wall-clock time: parsing and a bounded generator.
 *
 * Why not a library: the `rrule` package (used by the tests as a reference) walks period after
 * period until a candidate passes UNTIL or year 9999. A rule that is valid but never matches
 * (`FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30`, which anyone who can invite a user can put in a calendar)
 * kept the event loop busy for 10 to 16 seconds per expansion when measured here. This generator
 * stops at the end of the window and counts its work, so one series can cost at most a fixed
 * budget.
 */

export type Frequency =
  'YEARLY' | 'MONTHLY' | 'WEEKLY' | 'DAILY' | 'HOURLY' | 'MINUTELY' | 'SECONDLY';

const FREQUENCIES: readonly Frequency[] = [
  'YEARLY',
  'MONTHLY',
  'WEEKLY',
  'DAILY',
  'HOURLY',
  'MINUTELY',
  'SECONDLY',
];
const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];

/** A BYDAY entry: weekday 0 = Monday ... 6 = Sunday, `n` the optional ordinal (-1 = last). */
export interface WeekdayNum {
  weekday: number;
  n?: number;
}

/** UNTIL as written: a date, a local (floating) date-time, or a UTC date-time. */
export interface RuleUntil {
  form: 'date' | 'local' | 'utc';
  /** Wall ms for `date` (midnight) and `local`; the instant for `utc`. */
  ms: number;
}

export interface RecurrenceRule {
  freq: Frequency;
  interval: number;
  count?: number;
  until?: RuleUntil;
  bySecond: number[];
  byMinute: number[];
  byHour: number[];
  byDay: WeekdayNum[];
  byMonthDay: number[];
  byYearDay: number[];
  byWeekNo: number[];
  byMonth: number[];
  bySetPos: number[];
  /** Week start, 0 = Monday (the default) ... 6 = Sunday. */
  wkst: number;
}

export class RuleError extends Error {}

const UNTIL_TEXT = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/;

/** Parses `FREQ=...;...` (with or without the `RRULE:` prefix); throws RuleError when invalid. */
export function parseRule(text: string): RecurrenceRule {
  const body = text.replace(/^RRULE:/i, '').trim();
  const parts = new Map<string, string>();
  for (const part of body.split(';')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new RuleError(`malformed rule part "${part}"`);
    const name = part.slice(0, eq).toUpperCase();
    if (parts.has(name)) throw new RuleError(`${name} appears twice`);
    parts.set(name, part.slice(eq + 1));
  }
  const freq = parts.get('FREQ')?.toUpperCase() as Frequency | undefined;
  if (!freq || !FREQUENCIES.includes(freq)) throw new RuleError('FREQ is missing or unknown');
  const rule: RecurrenceRule = {
    freq,
    interval: 1,
    bySecond: [],
    byMinute: [],
    byHour: [],
    byDay: [],
    byMonthDay: [],
    byYearDay: [],
    byWeekNo: [],
    byMonth: [],
    bySetPos: [],
    wkst: 0,
  };
  for (const [name, value] of parts) {
    switch (name) {
      case 'FREQ':
        break;
      case 'INTERVAL':
        rule.interval = integer(name, value, 1, 100_000);
        break;
      case 'COUNT':
        rule.count = integer(name, value, 1, 1_000_000);
        break;
      case 'UNTIL':
        rule.until = parseUntil(value);
        break;
      case 'BYSECOND':
        rule.bySecond = list(name, value, 0, 59, false);
        break;
      case 'BYMINUTE':
        rule.byMinute = list(name, value, 0, 59, false);
        break;
      case 'BYHOUR':
        rule.byHour = list(name, value, 0, 23, false);
        break;
      case 'BYMONTHDAY':
        rule.byMonthDay = list(name, value, 1, 31, true);
        break;
      case 'BYYEARDAY':
        rule.byYearDay = list(name, value, 1, 366, true);
        break;
      case 'BYWEEKNO':
        rule.byWeekNo = list(name, value, 1, 53, true);
        break;
      case 'BYMONTH':
        rule.byMonth = list(name, value, 1, 12, false);
        break;
      case 'BYSETPOS':
        rule.bySetPos = list(name, value, 1, 366, true);
        break;
      case 'BYDAY':
        rule.byDay = value.split(',').map(parseWeekdayNum);
        break;
      case 'WKST':
        rule.wkst = weekday(value);
        break;
      default:
        // Extensions (X-...) do not change the set; anything else (RSCALE, SKIP) would.
        if (!name.startsWith('X-')) throw new RuleError(`${name} is not supported`);
    }
  }
  if (rule.count !== undefined && rule.until !== undefined) {
    throw new RuleError('COUNT and UNTIL must not both be set');
  }
  // The MUST NOTs of RFC 5545 3.3.10: the generator gives these combinations no meaning.
  const yearlyOrMonthly = freq === 'YEARLY' || freq === 'MONTHLY';
  if (!yearlyOrMonthly && rule.byDay.some((d) => d.n !== undefined)) {
    throw new RuleError('BYDAY with an ordinal needs FREQ=MONTHLY or YEARLY');
  }
  if (freq === 'MONTHLY' && rule.byDay.some((d) => d.n !== undefined && Math.abs(d.n) > 5)) {
    throw new RuleError('BYDAY ordinal out of range for a month');
  }
  if (rule.byWeekNo.length > 0 && freq !== 'YEARLY') throw new RuleError('BYWEEKNO needs YEARLY');
  if (rule.byYearDay.length > 0 && ['DAILY', 'WEEKLY', 'MONTHLY'].includes(freq)) {
    throw new RuleError(`BYYEARDAY is not allowed with FREQ=${freq}`);
  }
  if (rule.byMonthDay.length > 0 && freq === 'WEEKLY') {
    throw new RuleError('BYMONTHDAY is not allowed with FREQ=WEEKLY');
  }
  if (rule.bySetPos.length > 0 && !hasOtherBy(rule)) {
    throw new RuleError('BYSETPOS needs another BYxxx rule part');
  }
  return rule;
}

function hasOtherBy(r: RecurrenceRule): boolean {
  return [
    r.bySecond,
    r.byMinute,
    r.byHour,
    r.byDay,
    r.byMonthDay,
    r.byYearDay,
    r.byWeekNo,
    r.byMonth,
  ].some((l) => l.length > 0);
}

function integer(name: string, value: string, min: number, max: number): number {
  if (!/^\d{1,7}$/.test(value)) throw new RuleError(`${name} must be a number`);
  const n = Number(value);
  if (n < min || n > max) throw new RuleError(`${name} out of range`);
  return n;
}

function list(name: string, value: string, min: number, max: number, signed: boolean): number[] {
  const out = value.split(',').map((v) => {
    const m = /^([+-]?)(\d{1,3})$/.exec(v);
    if (!m || (m[1] === '-' && !signed)) throw new RuleError(`${name} has a bad value "${v}"`);
    const n = Number(m[2]);
    if (n < min || n > max) throw new RuleError(`${name} value ${v} out of range`);
    return m[1] === '-' ? -n : n;
  });
  return [...new Set(out)].sort((a, b) => a - b);
}

function weekday(text: string): number {
  const w = WEEKDAYS.indexOf(text.toUpperCase());
  if (w < 0) throw new RuleError(`unknown weekday "${text}"`);
  return w;
}

function parseWeekdayNum(text: string): WeekdayNum {
  const m = /^([+-]?\d{1,2})?([A-Za-z]{2})$/.exec(text);
  if (!m) throw new RuleError(`BYDAY has a bad value "${text}"`);
  const w = weekday(m[2]);
  if (m[1] === undefined) return { weekday: w };
  const n = Number(m[1]);
  if (n === 0 || Math.abs(n) > 53) throw new RuleError(`BYDAY ordinal out of range in "${text}"`);
  return { weekday: w, n };
}

function parseUntil(value: string): RuleUntil {
  const m = UNTIL_TEXT.exec(value);
  if (!m) throw new RuleError('UNTIL must be a date or a date-time');
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new RuleError('UNTIL is not a real date');
  }
  const midnight = dayNumber(year, month, day) * DAY;
  if (m[4] === undefined) return { form: 'date', ms: midnight };
  const [h, mi, s] = [Number(m[4]), Number(m[5]), Number(m[6])];
  if (h > 23 || mi > 59 || s > 60) throw new RuleError('UNTIL has a bad time');
  return {
    form: m[7] ? 'utc' : 'local',
    ms: midnight + h * HOUR + mi * MINUTE + Math.min(s, 59) * SECOND,
  };
}

/** What one expansion may cost; shared by every rule of one series. */
export interface Budget {
  /** Occurrences the rules may still produce, counted from the first one generated. */
  occurrences: number;
  /** Periods and days the rules may still examine. */
  work: number;
}

export interface GenerateInput {
  /** DTSTART as a wall time: the first occurrence, counted by COUNT (RFC 5545 3.3.10). */
  dtstart: number;
  /** Inclusive wall-time limit from UNTIL, already read in the series' zone. */
  until?: number;
  /** Only occurrences at or after this wall time are returned (earlier ones still count). */
  from: number;
  /** Generation stops at the first occurrence after this wall time. */
  to: number;
  budget: Budget;
}

export interface GenerateResult {
  /** Wall times of the occurrences in [from, to], ascending. */
  walls: number[];
  /** The budget ran out before `to` was reached: the list is incomplete. */
  exhausted: boolean;
}

/**
 * The rule's occurrences between `from` and `to` (wall times). DTSTART is always the first
 * occurrence and counts toward COUNT (RFC 5545 3.3.10: "The DTSTART property value always counts
 * as the first occurrence"; 3.8.5.3: it "defines the first instance in the recurrence set"),
 * also when the rule does not match it: the RFC leaves that case undefined, and this reading keeps
 * the event at the start it was given. Without COUNT, whole periods before `from` are skipped
 * arithmetically, so an old series costs no more than a new one.
 */
export function generate(rule: RecurrenceRule, input: GenerateInput): GenerateResult {
  const gen = new Generator(rule, input);
  return gen.run();
}

interface DayContext {
  year: number;
  yearStart: number;
  yearLength: number;
}

class Generator {
  private readonly walls: number[] = [];
  private remaining: number | undefined;
  private readonly startDay: number;
  private readonly base: { year: number; month: number; day: number; weekday: number };
  private readonly timeOfDay: number;
  private readonly byDay: WeekdayNum[];
  private readonly byMonthDay: number[];
  private readonly byMonth: number[];
  private readonly times: number[];
  private readonly nthScope: 'month' | 'year';
  private done = false;
  private exhausted = false;

  constructor(
    private readonly rule: RecurrenceRule,
    private readonly input: GenerateInput,
  ) {
    this.remaining = rule.count;
    this.startDay = dayOf(input.dtstart);
    this.base = ymdOf(this.startDay);
    this.timeOfDay = input.dtstart - this.startDay * DAY;
    // Defaults taken from DTSTART when the rule names no day (RFC 5545 3.3.10, "Information,
    // not contained in the rule, necessary to determine the various recurrence instance start
    // time and dates are derived from the Start Time ("DTSTART") component attribute").
    let byDay = rule.byDay;
    let byMonthDay = rule.byMonthDay;
    let byMonth = rule.byMonth;
    const namesDays =
      rule.byWeekNo.length > 0 ||
      rule.byYearDay.length > 0 ||
      rule.byMonthDay.length > 0 ||
      rule.byDay.length > 0;
    if (!namesDays) {
      if (rule.freq === 'YEARLY') {
        if (byMonth.length === 0) byMonth = [this.base.month];
        byMonthDay = [this.base.day];
      } else if (rule.freq === 'MONTHLY') {
        byMonthDay = [this.base.day];
      } else if (rule.freq === 'WEEKLY') {
        byDay = [{ weekday: this.base.weekday }];
      }
    }
    this.byDay = byDay;
    this.byMonthDay = byMonthDay;
    this.byMonth = byMonth;
    this.nthScope = rule.freq === 'MONTHLY' || rule.byMonth.length > 0 ? 'month' : 'year';
    const tod = this.timeOfDay;
    const hours = rule.byHour.length > 0 ? rule.byHour : [Math.floor(tod / HOUR)];
    const minutes = rule.byMinute.length > 0 ? rule.byMinute : [Math.floor((tod % HOUR) / MINUTE)];
    const seconds =
      rule.bySecond.length > 0 ? rule.bySecond : [Math.floor((tod % MINUTE) / SECOND)];
    this.times = [];
    for (const h of hours)
      for (const m of minutes)
        for (const s of seconds) this.times.push(h * HOUR + m * MINUTE + s * SECOND);
    this.times.sort((a, b) => a - b);
  }

  run(): GenerateResult {
    const { input } = this;
    // DTSTART first: always an occurrence, counted once.
    this.offer(input.dtstart, true);
    if (!this.done) {
      if (isSubDaily(this.rule.freq)) this.runSubDaily();
      else this.runDaily();
    }
    return { walls: this.walls, exhausted: this.exhausted };
  }

  /** Takes one candidate (in ascending order); false once generation is over. */
  private offer(wall: number, isDtstart = false): void {
    const { input } = this;
    if (!isDtstart && wall <= input.dtstart) return; // before DTSTART, or DTSTART again
    if (input.until !== undefined && wall > input.until && !isDtstart) {
      this.done = true;
      return;
    }
    if (wall > input.to) {
      this.done = true;
      return;
    }
    if (--input.budget.occurrences < 0) {
      this.exhausted = true;
      this.done = true;
      return;
    }
    if (wall >= input.from) this.walls.push(wall);
    if (this.remaining !== undefined && --this.remaining <= 0) this.done = true;
  }

  private spend(units: number): boolean {
    this.input.budget.work -= units;
    if (this.input.budget.work < 0) {
      this.exhausted = true;
      this.done = true;
      return false;
    }
    return true;
  }

  /** YEARLY, MONTHLY, WEEKLY, DAILY: each period is a run of whole days. */
  private runDaily(): void {
    const { rule, input } = this;
    const weekStart0 = this.startDay - ((this.base.weekday - rule.wkst + 7) % 7);
    const range = (p: number): [number, number] => {
      const k = p * rule.interval;
      switch (rule.freq) {
        case 'YEARLY':
          return [dayNumber(this.base.year + k, 1, 1), dayNumber(this.base.year + k + 1, 1, 1)];
        case 'MONTHLY': {
          const m = this.base.month - 1 + k;
          return [dayNumber(this.base.year, m + 1, 1), dayNumber(this.base.year, m + 2, 1)];
        }
        case 'WEEKLY':
          return [weekStart0 + 7 * k, weekStart0 + 7 * k + 7];
        default:
          return [this.startDay + k, this.startDay + k + 1];
      }
    };
    let p = 0;
    if (rule.count === undefined && input.from > input.dtstart) {
      // Whole periods before `from` hold nothing to return and nothing to count.
      const fromDay = dayOf(input.from);
      const from = ymdOf(fromDay);
      const units =
        rule.freq === 'YEARLY'
          ? from.year - this.base.year
          : rule.freq === 'MONTHLY'
            ? (from.year - this.base.year) * 12 + from.month - this.base.month
            : rule.freq === 'WEEKLY'
              ? Math.floor((fromDay - weekStart0) / 7)
              : fromDay - this.startDay;
      p = Math.max(0, Math.floor(units / rule.interval) - 1);
    }
    for (; !this.done; p++) {
      const [first, end] = range(p);
      if (first * DAY > input.to) break;
      if (input.until !== undefined && first * DAY > input.until) break;
      if (!this.spend(end - first)) break;
      const set: number[] = [];
      for (let d = first; d < end; d++) {
        if (!this.dayMatches(d)) continue;
        for (const t of this.times) set.push(d * DAY + t);
      }
      for (const wall of this.selectPositions(set)) {
        this.offer(wall);
        if (this.done) break;
      }
    }
  }

  /** HOURLY, MINUTELY, SECONDLY: periods shorter than a day. */
  private runSubDaily(): void {
    const { rule, input } = this;
    const unit = rule.freq === 'HOURLY' ? HOUR : rule.freq === 'MINUTELY' ? MINUTE : SECOND;
    const step = unit * rule.interval;
    const base = input.dtstart - (((input.dtstart % unit) + unit) % unit);
    let p = 0;
    if (rule.count === undefined && input.from > input.dtstart) {
      p = Math.max(0, Math.floor((input.from - base) / step) - 1);
    }
    let checkedDay = Number.NaN;
    let dayOk = false;
    for (; !this.done; p++) {
      const start = base + p * step;
      if (start > input.to) break;
      if (input.until !== undefined && start > input.until) break;
      if (!this.spend(1)) break;
      const day = dayOf(start);
      if (day !== checkedDay) {
        checkedDay = day;
        dayOk = this.dayMatches(day);
      }
      if (!dayOk) {
        // Jump to the first period of the next day: a day that fails stays failed.
        const next = (day + 1) * DAY;
        p = Math.max(p, Math.ceil((next - base) / step) - 1);
        continue;
      }
      const tod = start - day * DAY;
      const hour = Math.floor(tod / HOUR);
      const minute = Math.floor((tod % HOUR) / MINUTE);
      const second = Math.floor((tod % MINUTE) / SECOND);
      if (rule.byHour.length > 0 && !rule.byHour.includes(hour)) continue;
      const set: number[] = [];
      if (rule.freq === 'HOURLY') {
        const minutes = rule.byMinute.length > 0 ? rule.byMinute : [minuteOf(input.dtstart)];
        const seconds = rule.bySecond.length > 0 ? rule.bySecond : [secondOf(input.dtstart)];
        for (const m of minutes) for (const s of seconds) set.push(start + m * MINUTE + s * SECOND);
      } else if (rule.freq === 'MINUTELY') {
        if (rule.byMinute.length > 0 && !rule.byMinute.includes(minute)) continue;
        const seconds = rule.bySecond.length > 0 ? rule.bySecond : [secondOf(input.dtstart)];
        for (const s of seconds) set.push(start + s * SECOND);
      } else {
        if (rule.byMinute.length > 0 && !rule.byMinute.includes(minute)) continue;
        if (rule.bySecond.length > 0 && !rule.bySecond.includes(second)) continue;
        set.push(start);
      }
      set.sort((a, b) => a - b);
      for (const wall of this.selectPositions(set)) {
        this.offer(wall);
        if (this.done) break;
      }
    }
  }

  private selectPositions(set: number[]): number[] {
    const positions = this.rule.bySetPos;
    if (positions.length === 0) return set;
    const picked = new Set<number>();
    for (const pos of positions) {
      const i = pos > 0 ? pos - 1 : set.length + pos;
      if (i >= 0 && i < set.length) picked.add(set[i]);
    }
    return [...picked].sort((a, b) => a - b);
  }

  private dayMatches(day: number): boolean {
    const { rule } = this;
    const ymd = ymdOf(day);
    if (this.byMonth.length > 0 && !this.byMonth.includes(ymd.month)) return false;
    const dim = daysInMonth(ymd.year, ymd.month);
    if (
      this.byMonthDay.length > 0 &&
      !this.byMonthDay.includes(ymd.day) &&
      !this.byMonthDay.includes(ymd.day - dim - 1)
    ) {
      return false;
    }
    const ctx = yearContext(ymd.year);
    const doy = day - ctx.yearStart + 1;
    if (
      rule.byYearDay.length > 0 &&
      !rule.byYearDay.includes(doy) &&
      !rule.byYearDay.includes(doy - ctx.yearLength - 1)
    ) {
      return false;
    }
    if (rule.byWeekNo.length > 0 && !this.weekNoMatches(day, ymd.year)) return false;
    if (this.byDay.length > 0) {
      const wd = weekdayOf(day);
      const ok = this.byDay.some((entry) => {
        if (entry.weekday !== wd) return false;
        if (entry.n === undefined) return true;
        let fromStart: number;
        let fromEnd: number;
        if (this.nthScope === 'month') {
          fromStart = Math.floor((ymd.day - 1) / 7) + 1;
          fromEnd = Math.floor((dim - ymd.day) / 7) + 1;
        } else {
          fromStart = Math.floor((doy - 1) / 7) + 1;
          fromEnd = Math.floor((ctx.yearLength - doy) / 7) + 1;
        }
        return entry.n > 0 ? entry.n === fromStart : -entry.n === fromEnd;
      });
      if (!ok) return false;
    }
    return true;
  }

  /**
   * RFC 5545 week numbers: week 1 is the first week (starting on WKST) with at least four days
   * of the year. Days at the year's edges that belong to the neighbouring year's week count as
   * that week when it is named as week 1 of the next year, or as the last week (or -1) of the
   * previous one: the reading of python-dateutil and the rrule package.
   */
  private weekNoMatches(day: number, year: number): boolean {
    const wanted = this.rule.byWeekNo;
    const start = week1Start(year, this.rule.wkst);
    const next = week1Start(year + 1, this.rule.wkst);
    const weeks = Math.round((next - start) / 7);
    if (day >= next) return wanted.includes(1);
    if (day < start) {
      const lastWeeks = Math.round((start - week1Start(year - 1, this.rule.wkst)) / 7);
      return wanted.includes(lastWeeks) || wanted.includes(-1);
    }
    const n = Math.floor((day - start) / 7) + 1;
    return wanted.some((w) => w === n || w === n - weeks - 1);
  }
}

function week1Start(year: number, wkst: number): number {
  const jan1 = dayNumber(year, 1, 1);
  const back = (weekdayOf(jan1) - wkst + 7) % 7;
  const start = jan1 - back;
  // The week holding 1 January counts only with four or more days of the year.
  return 7 - back >= 4 ? start : start + 7;
}

const yearContexts = new Map<number, DayContext>();

function yearContext(year: number): DayContext {
  let ctx = yearContexts.get(year);
  if (!ctx) {
    ctx = { year, yearStart: dayNumber(year, 1, 1), yearLength: isLeapYear(year) ? 366 : 365 };
    if (yearContexts.size > 2_000) yearContexts.clear();
    yearContexts.set(year, ctx);
  }
  return ctx;
}

function isSubDaily(freq: Frequency): boolean {
  return freq === 'HOURLY' || freq === 'MINUTELY' || freq === 'SECONDLY';
}

function minuteOf(wall: number): number {
  return Math.floor((((wall % HOUR) + HOUR) % HOUR) / MINUTE);
}

function secondOf(wall: number): number {
  return Math.floor((((wall % MINUTE) + MINUTE) % MINUTE) / SECOND);
}
