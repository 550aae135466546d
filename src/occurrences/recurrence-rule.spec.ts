import fc from 'fast-check';
import rrulePackage from 'rrule';
import { describe, expect, it } from 'vitest';
import { generate, parseRule, RuleError, type Budget } from './recurrence-rule.js';

// The rrule package is CommonJS: its named exports come through the default import in ESM.
const { RRule } = rrulePackage;

const wall = (iso: string) => Date.parse(`${iso}Z`);
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19);
const budget = (): Budget => ({ occurrences: 100_000, work: 10_000_000 });

/** The generator on wall times, as ISO strings without zone. */
function run(rule: string, dtstart: string, from: string, to: string, b = budget()): string[] {
  return generate(parseRule(rule), {
    dtstart: wall(dtstart),
    until: parseRule(rule).until?.ms,
    from: wall(from),
    to: wall(to),
    budget: b,
  }).walls.map(iso);
}

describe('parseRule', () => {
  it('reads every rule part', () => {
    expect(
      parseRule('RRULE:FREQ=MONTHLY;INTERVAL=2;BYDAY=-1FR,2MO;BYMONTH=3,1;WKST=SU;COUNT=4'),
    ).toMatchObject({
      freq: 'MONTHLY',
      interval: 2,
      count: 4,
      byDay: [
        { weekday: 4, n: -1 },
        { weekday: 0, n: 2 },
      ],
      byMonth: [1, 3],
      wkst: 6,
    });
    expect(parseRule('FREQ=WEEKLY;UNTIL=20260630T215959Z').until).toEqual({
      form: 'utc',
      ms: Date.UTC(2026, 5, 30, 21, 59, 59),
    });
    expect(parseRule('FREQ=DAILY;UNTIL=20260630').until).toEqual({
      form: 'date',
      ms: Date.UTC(2026, 5, 30),
    });
  });

  it.each([
    ['BYDAY=MO', 'FREQ is missing'],
    ['FREQ=FORTNIGHTLY', 'FREQ is missing or unknown'],
    ['FREQ=WEEKLY;BYDAY=1MO', 'ordinal'],
    ['FREQ=DAILY;COUNT=2;UNTIL=20260101', 'COUNT and UNTIL'],
    ['FREQ=MONTHLY;BYWEEKNO=3', 'BYWEEKNO'],
    ['FREQ=WEEKLY;BYMONTHDAY=3', 'BYMONTHDAY'],
    ['FREQ=DAILY;BYSETPOS=1', 'BYSETPOS'],
    ['FREQ=DAILY;INTERVAL=0', 'INTERVAL'],
    ['FREQ=DAILY;BYHOUR=24', 'BYHOUR'],
    ['FREQ=DAILY;RSCALE=HEBREW', 'RSCALE'],
    ['FREQ=DAILY;UNTIL=20260231', 'UNTIL'],
  ])('refuses %s', (rule, words) => {
    expect(() => parseRule(rule)).toThrow(RuleError);
    expect(() => parseRule(rule)).toThrow(words);
  });
});

describe('generate (wall times)', () => {
  it('counts DTSTART as the first occurrence, also when the rule does not match it', () => {
    // 2026-03-04 is a Wednesday; the rule names Mondays.
    expect(
      run(
        'FREQ=WEEKLY;BYDAY=MO;COUNT=3',
        '2026-03-04T09:00:00',
        '2026-01-01T00:00:00',
        '2027-01-01T00:00:00',
      ),
    ).toEqual(['2026-03-04T09:00:00', '2026-03-09T09:00:00', '2026-03-16T09:00:00']);
  });

  it('stops at the end of the window for a rule that never matches, within its budget', () => {
    const b = budget();
    const started = performance.now();
    expect(
      run(
        'FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30',
        '2026-01-05T09:00:00',
        '2026-01-01T00:00:00',
        '2027-01-01T00:00:00',
        b,
      ),
    ).toEqual(['2026-01-05T09:00:00']);
    expect(performance.now() - started).toBeLessThan(500);
    expect(b.work).toBeGreaterThan(10_000_000 - 400);
  });

  it('reports an exhausted budget instead of running on', () => {
    const result = generate(parseRule('FREQ=DAILY;COUNT=100000'), {
      dtstart: wall('2000-01-01T09:00:00'),
      from: wall('2026-01-01T00:00:00'),
      to: wall('2027-01-01T00:00:00'),
      budget: { occurrences: 5_000, work: 10_000_000 },
    });
    expect(result.exhausted).toBe(true);
  });

  it('skips whole periods of an old series without COUNT (same result, little work)', () => {
    const b = budget();
    const got = run(
      'FREQ=DAILY;INTERVAL=3',
      '1990-01-01T07:30:00',
      '2026-03-01T00:00:00',
      '2026-03-10T00:00:00',
      b,
    );
    // 1990-01-01 + 3k days: 2026-03-01 is day 13,208 = 3 * 4402 + 2, so the first is 03-02.
    expect(got).toEqual(['2026-03-02T07:30:00', '2026-03-05T07:30:00', '2026-03-08T07:30:00']);
    expect(10_000_000 - b.work).toBeLessThan(20);
  });
});

/**
 * The generator against the rrule package on random rules. rrule leaves out a DTSTART that the
 * rule does not match, and counts COUNT without it; RFC 5545 (3.8.5.3) counts DTSTART as the
 * first occurrence, so the expected list adds it.
 */
describe('generate agrees with the rrule package', () => {
  const weekday = fc.constantFrom('MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU');
  // Sorted: rrule emits BYHOUR=1,0 as 01:00 then 00:00, out of order.
  const setOf = <T extends string | number>(arb: fc.Arbitrary<T>, max: number) =>
    fc
      .uniqueArray(arb, { minLength: 1, maxLength: max })
      .map((l) => (typeof l[0] === 'number' ? [...l].sort((a, b) => +a - +b) : l));
  const part = (name: string, values: fc.Arbitrary<(string | number)[]>) =>
    fc.option(
      values.map((v) => `${name}=${v.join(',')}`),
      { nil: undefined },
    );

  const ruleArb = fc
    .record({
      freq: fc.constantFrom('YEARLY', 'MONTHLY', 'WEEKLY', 'DAILY', 'HOURLY'),
      interval: fc.integer({ min: 1, max: 3 }),
      end: fc.oneof(
        fc.constant(undefined),
        fc.integer({ min: 1, max: 40 }).map((n) => `COUNT=${n}`),
        fc
          .integer({ min: 0, max: 900 })
          .map(
            (d) =>
              `UNTIL=${iso(wall('2026-02-01T12:00:00') + d * 86_400_000).replace(/[-:]/g, '')}`,
          ),
      ),
      byMonth: part('BYMONTH', setOf(fc.integer({ min: 1, max: 12 }), 3)),
      // Days every month has, so that no combination is empty forever (rrule would then walk
      // to year 9999, which is exactly why the generator does not use it).
      byMonthDay: part(
        'BYMONTHDAY',
        setOf(fc.oneof(fc.integer({ min: 1, max: 28 }), fc.integer({ min: -28, max: -1 })), 3),
      ),
      byDay: fc.option(setOf(weekday, 3), { nil: undefined }),
      nth: fc.option(fc.constantFrom(-2, -1, 1, 2, 3, 4), { nil: undefined }),
      byHour: part('BYHOUR', setOf(fc.integer({ min: 0, max: 23 }), 2)),
      byMinute: part('BYMINUTE', setOf(fc.constantFrom(0, 15, 30, 45), 2)),
      // One position: with BYSETPOS=1,-1 on a one-element set rrule emits it twice.
      bySetPos: part('BYSETPOS', setOf(fc.constantFrom(1, -1), 1)),
      wkst: fc.option(weekday, { nil: undefined }),
    })
    .map((r) => {
      const parts = [`FREQ=${r.freq}`, `INTERVAL=${r.interval}`];
      if (r.end) parts.push(r.end);
      // Combinations left out because they can never match (same reason as above): a month
      // skipped by INTERVAL, an hour of the wrong parity, an nth weekday outside a month day.
      if (r.byMonth && !(r.freq === 'MONTHLY' && r.interval > 1)) parts.push(r.byMonth);
      const ordinal =
        r.nth !== undefined && (r.freq === 'MONTHLY' || r.freq === 'YEARLY') && !r.byMonthDay;
      if (r.byMonthDay && r.freq !== 'WEEKLY') parts.push(r.byMonthDay);
      if (r.byDay) {
        parts.push(`BYDAY=${r.byDay.map((d) => (ordinal ? `${r.nth}${d}` : d)).join(',')}`);
      }
      if (r.byHour && !(r.freq === 'HOURLY' && r.interval > 1)) parts.push(r.byHour);
      if (r.byMinute) parts.push(r.byMinute);
      // Not with WEEKLY: rrule's first weekly set starts at DTSTART's day instead of at the week
      // start, so BYSETPOS counts from a different first element there. RFC 5545 applies
      // BYSETPOS to the whole interval (the week), which is what the generator does.
      const hasBy = parts.some((p) => p.startsWith('BY'));
      if (r.bySetPos && hasBy && r.freq !== 'WEEKLY') parts.push(r.bySetPos);
      if (r.wkst) parts.push(`WKST=${r.wkst}`);
      return parts.join(';');
    });

  it('on 400 random rules, DST-free wall time, window in the middle of the series', () => {
    fc.assert(
      fc.property(
        ruleArb,
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 1, max: 120 }),
        (text, startDay, hour, fromDay, windowDays) => {
          const dtstart = wall('2025-01-01T00:00:00') + startDay * 86_400_000 + hour * 3_600_000;
          const from = dtstart + fromDay * 86_400_000 - 86_400_000;
          const to = from + windowDays * 86_400_000;
          const rule = parseRule(text);
          const got = generate(rule, {
            dtstart,
            until: rule.until?.ms,
            from,
            to,
            budget: budget(),
          });
          expect(got.exhausted).toBe(false);
          expect(got.walls.map(iso), text).toEqual(expected(text, dtstart, from, to));
        },
      ),
      { numRuns: 400, seed: 5545 },
    );
  });

  it('on 300 random yearly rules with BYYEARDAY or BYWEEKNO', () => {
    const yearly = fc
      .record({
        interval: fc.integer({ min: 1, max: 2 }),
        count: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
        byYearDay: fc.option(
          setOf(fc.oneof(fc.integer({ min: 1, max: 365 }), fc.integer({ min: -365, max: -1 })), 3),
          { nil: undefined },
        ),
        byWeekNo: fc.option(
          setOf(fc.oneof(fc.integer({ min: 1, max: 52 }), fc.integer({ min: -52, max: -1 })), 3),
          { nil: undefined },
        ),
        byDay: fc.option(setOf(weekday, 3), { nil: undefined }),
        wkst: fc.option(weekday, { nil: undefined }),
      })
      .filter((r) => r.byYearDay !== undefined || r.byWeekNo !== undefined)
      .map((r) => {
        const parts = ['FREQ=YEARLY', `INTERVAL=${r.interval}`];
        if (r.count) parts.push(`COUNT=${r.count}`);
        // One of the two: together they are often empty forever (see above).
        if (r.byYearDay) parts.push(`BYYEARDAY=${r.byYearDay.join(',')}`);
        else if (r.byWeekNo) parts.push(`BYWEEKNO=${r.byWeekNo.join(',')}`);
        if (r.byDay && !r.byYearDay) parts.push(`BYDAY=${r.byDay.join(',')}`);
        if (r.wkst) parts.push(`WKST=${r.wkst}`);
        return parts.join(';');
      });
    fc.assert(
      fc.property(
        yearly,
        fc.integer({ min: 0, max: 700 }),
        fc.integer({ min: 0, max: 1500 }),
        (text, startDay, fromDay) => {
          const dtstart = wall('2024-01-01T10:00:00') + startDay * 86_400_000;
          const from = dtstart + fromDay * 86_400_000 - 86_400_000;
          const to = from + 400 * 86_400_000;
          const rule = parseRule(text);
          const got = generate(rule, { dtstart, from, to, budget: budget() });
          expect(got.walls.map(iso), text).toEqual(expected(text, dtstart, from, to));
        },
      ),
      { numRuns: 300, seed: 3310 },
    );
  });

  function expected(text: string, dtstart: number, from: number, to: number): string[] {
    const options = { ...RRule.parseString(text), dtstart: new Date(dtstart) };
    // Nothing after the window matters, and an UNTIL there keeps rrule from walking on.
    if (!options.until || options.until.getTime() > to) options.until = new Date(to);
    let list = new RRule(options, true).all().map((d) => d.getTime());
    if (list[0] !== dtstart) {
      list = [dtstart, ...list];
      if (options.count) list = list.slice(0, options.count);
    }
    return list.filter((t) => t >= from && t <= to).map(iso);
  }
});
