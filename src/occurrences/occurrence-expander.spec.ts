import { describe, expect, it } from 'vitest';
import { googleException, googleSeries, googleZone } from './google-events.js';
import {
  expandSeries,
  type ExceptionInput,
  type Occurrence,
  type SeriesInput,
  singleOccurrence,
  type Window,
} from './occurrence-expander.js';

/**
 * Hand-computed cases: every expected instant is written out in UTC. Calendar facts used:
 * Europe/Berlin leaves CET (+01:00) for CEST (+02:00) on Sunday 2026-03-29 at 02:00 and returns on
 * Sunday 2026-10-25 at 03:00; America/New_York leaves EST (-05:00) for EDT (-04:00) on Sunday
 * 2026-03-08 and returns on 2026-11-01. 2026-03-16 is a Monday.
 */

const BERLIN = 'Europe/Berlin';
const window = (from: string, to: string): Window => ({
  from: Date.parse(from),
  to: Date.parse(to),
});

/** A Google master as stored in `raw`, read the way the service reads it. */
function master(
  recurrence: string[],
  start: string,
  end: string,
  timeZone: string | undefined = BERLIN,
): SeriesInput {
  const raw = {
    id: 'series0001',
    recurrence,
    start: { dateTime: start, ...(timeZone ? { timeZone } : {}) },
    end: { dateTime: end, ...(timeZone ? { timeZone } : {}) },
    calendarTimeZone: BERLIN,
  };
  return googleSeries('master-item', raw)!;
}

function starts(occurrences: Occurrence[]): string[] {
  return occurrences.map((o) => new Date(o.startMs).toISOString());
}

const WEEKLY_MONDAY_9 = () =>
  master(['RRULE:FREQ=WEEKLY;BYDAY=MO'], '2026-03-16T09:00:00+01:00', '2026-03-16T10:00:00+01:00');

describe('expandSeries: time zones and DST', () => {
  it('keeps a weekly 09:00 Europe/Berlin meeting at 09:00 local across the March change', () => {
    const result = expandSeries(
      WEEKLY_MONDAY_9(),
      [],
      window('2026-03-15T00:00:00Z', '2026-04-07T00:00:00Z'),
    );
    expect(starts(result.occurrences)).toEqual([
      '2026-03-16T08:00:00.000Z', // 09:00 CET
      '2026-03-23T08:00:00.000Z',
      '2026-03-30T07:00:00.000Z', // 09:00 CEST
      '2026-04-06T07:00:00.000Z',
    ]);
    expect(result.occurrences.map((o) => o.endMs - o.startMs)).toEqual([
      3_600_000, 3_600_000, 3_600_000, 3_600_000,
    ]);
    expect(result.occurrences[2]).toMatchObject({
      itemId: 'master-item',
      start: { instant: Date.parse('2026-03-30T07:00:00Z') },
      end: { instant: Date.parse('2026-03-30T08:00:00Z') },
      originalStart: { instant: Date.parse('2026-03-30T07:00:00Z') },
      exception: false,
    });
  });

  it('and across the October change, with a window that starts in the middle of the series', () => {
    const result = expandSeries(
      WEEKLY_MONDAY_9(),
      [],
      window('2026-10-15T00:00:00Z', '2026-11-03T00:00:00Z'),
    );
    expect(starts(result.occurrences)).toEqual([
      '2026-10-19T07:00:00.000Z', // 09:00 CEST
      '2026-10-26T08:00:00.000Z', // 09:00 CET
      '2026-11-02T08:00:00.000Z',
    ]);
  });

  it('keeps a daily 09:00 America/New_York event at 09:00 local across its March change', () => {
    const series = master(
      ['RRULE:FREQ=DAILY;COUNT=4'],
      '2026-03-06T09:00:00-05:00',
      '2026-03-06T09:30:00-05:00',
      'America/New_York',
    );
    const result = expandSeries(series, [], window('2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z'));
    expect(starts(result.occurrences)).toEqual([
      '2026-03-06T14:00:00.000Z', // EST
      '2026-03-07T14:00:00.000Z',
      '2026-03-08T13:00:00.000Z', // EDT from that Sunday
      '2026-03-09T13:00:00.000Z',
    ]);
  });

  it('uses the calendar zone when the event names none', () => {
    const series = master(
      ['RRULE:FREQ=WEEKLY;COUNT=3'],
      '2026-03-23T09:00:00+01:00',
      '2026-03-23T10:00:00+01:00',
      undefined,
    );
    expect(series.zone).toBe(BERLIN);
    expect(
      starts(
        expandSeries(series, [], window('2026-03-01T00:00Z', '2026-05-01T00:00Z')).occurrences,
      ),
    ).toEqual(['2026-03-23T08:00:00.000Z', '2026-03-30T07:00:00.000Z', '2026-04-06T07:00:00.000Z']);
  });

  it('moves a time that falls into the spring-forward gap by the gap (RFC 5545 3.3.5)', () => {
    const series = master(
      ['RRULE:FREQ=DAILY;COUNT=3'],
      '2026-03-28T02:30:00+01:00',
      '2026-03-28T03:00:00+01:00',
    );
    const result = expandSeries(series, [], window('2026-03-27T00:00Z', '2026-04-01T00:00Z'));
    expect(starts(result.occurrences)).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:30:00.000Z', // 02:30 does not exist: 03:30 CEST
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
  });
});

describe('expandSeries: rule parts', () => {
  it('COUNT counts from the first occurrence, not from the window', () => {
    const series = master(
      ['RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3'],
      '2026-03-16T09:00:00+01:00',
      '2026-03-16T10:00:00+01:00',
    );
    const result = expandSeries(series, [], window('2026-03-20T00:00Z', '2026-06-01T00:00Z'));
    expect(starts(result.occurrences)).toEqual([
      '2026-03-23T08:00:00.000Z',
      '2026-03-30T07:00:00.000Z',
    ]);
  });

  it('UNTIL is inclusive and read as an instant when it ends in Z', () => {
    const upTo = (until: string) =>
      starts(
        expandSeries(
          master(
            [`RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=${until}`],
            '2026-03-16T09:00:00+01:00',
            '2026-03-16T10:00:00+01:00',
          ),
          [],
          window('2026-03-01T00:00Z', '2026-06-01T00:00Z'),
        ).occurrences,
      );
    expect(upTo('20260330T070000Z')).toEqual([
      '2026-03-16T08:00:00.000Z',
      '2026-03-23T08:00:00.000Z',
      '2026-03-30T07:00:00.000Z',
    ]);
    expect(upTo('20260330T065959Z')).toEqual([
      '2026-03-16T08:00:00.000Z',
      '2026-03-23T08:00:00.000Z',
    ]);
  });

  it('monthly on the last Friday (BYDAY=-1FR)', () => {
    const series = master(
      ['RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=6'],
      '2026-01-30T16:00:00+01:00',
      '2026-01-30T17:00:00+01:00',
    );
    const result = expandSeries(series, [], window('2026-01-01T00:00Z', '2027-01-01T00:00Z'));
    expect(starts(result.occurrences)).toEqual([
      '2026-01-30T15:00:00.000Z',
      '2026-02-27T15:00:00.000Z',
      '2026-03-27T15:00:00.000Z', // still CET: the change is on the 29th
      '2026-04-24T14:00:00.000Z',
      '2026-05-29T14:00:00.000Z',
      '2026-06-26T14:00:00.000Z',
    ]);
  });

  it('EXDATE removes occurrences, in the TZID given and in UTC', () => {
    const series = master(
      [
        'RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=5',
        'EXDATE;TZID=Europe/Berlin:20260323T090000',
        'EXDATE:20260406T070000Z',
      ],
      '2026-03-16T09:00:00+01:00',
      '2026-03-16T10:00:00+01:00',
    );
    const result = expandSeries(series, [], window('2026-03-01T00:00Z', '2026-06-01T00:00Z'));
    expect(starts(result.occurrences)).toEqual([
      '2026-03-16T08:00:00.000Z',
      '2026-03-30T07:00:00.000Z',
      '2026-04-13T07:00:00.000Z',
    ]);
  });

  it('RDATE adds an occurrence of the same length', () => {
    const series = master(
      ['RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=2', 'RDATE;TZID=Europe/Berlin:20260318T150000'],
      '2026-03-16T09:00:00+01:00',
      '2026-03-16T10:00:00+01:00',
    );
    const result = expandSeries(series, [], window('2026-03-01T00:00Z', '2026-06-01T00:00Z'));
    expect(starts(result.occurrences)).toEqual([
      '2026-03-16T08:00:00.000Z',
      '2026-03-18T14:00:00.000Z',
      '2026-03-23T08:00:00.000Z',
    ]);
    expect(result.occurrences[1].endMs).toBe(Date.parse('2026-03-18T15:00:00Z'));
  });

  it('includes an occurrence that began before the window and is still running', () => {
    const series = master(
      ['RRULE:FREQ=DAILY;COUNT=3'],
      '2026-03-16T23:00:00+01:00',
      '2026-03-17T01:00:00+01:00',
    );
    const result = expandSeries(series, [], window('2026-03-16T23:00:00Z', '2026-03-17T22:00:00Z'));
    // 22:00Z-00:00Z meets the window; the next one starts exactly at its end, which is excluded.
    expect(starts(result.occurrences)).toEqual(['2026-03-16T22:00:00.000Z']);
  });
});

describe('expandSeries: all-day series', () => {
  const allDay: SeriesInput = {
    itemId: 'offsite',
    recurrence: ['RRULE:FREQ=WEEKLY;COUNT=3'],
    start: { date: '2026-03-27' },
    end: { date: '2026-03-28' },
    zone: BERLIN,
  };

  it('yields dates, each a day in the calendar zone', () => {
    const result = expandSeries(allDay, [], window('2026-03-01T00:00Z', '2026-05-01T00:00Z'));
    expect(result.occurrences.map((o) => [o.start, o.end])).toEqual([
      [{ date: '2026-03-27' }, { date: '2026-03-28' }],
      [{ date: '2026-04-03' }, { date: '2026-04-04' }],
      [{ date: '2026-04-10' }, { date: '2026-04-11' }],
    ]);
    // Berlin midnights: CET before the 29th, CEST after.
    expect(starts(result.occurrences)).toEqual([
      '2026-03-26T23:00:00.000Z',
      '2026-04-02T22:00:00.000Z',
      '2026-04-09T22:00:00.000Z',
    ]);
  });

  it('meets a window by the zone day: 3 April in Berlin began at 22:00Z on the 2nd', () => {
    const result = expandSeries(allDay, [], window('2026-04-03T00:00Z', '2026-04-04T00:00Z'));
    expect(result.occurrences.map((o) => o.start)).toEqual([{ date: '2026-04-03' }]);
  });

  it('EXDATE and exceptions match by date', () => {
    const series = { ...allDay, recurrence: [...allDay.recurrence, 'EXDATE;VALUE=DATE:20260403'] };
    const cancelled: ExceptionInput = {
      itemId: 'x',
      originalStart: { date: '2026-04-10' },
      cancelled: true,
      start: null,
      end: null,
    };
    const result = expandSeries(
      series,
      [cancelled],
      window('2026-03-01T00:00Z', '2026-05-01T00:00Z'),
    );
    expect(result.occurrences.map((o) => o.start)).toEqual([{ date: '2026-03-27' }]);
  });
});

describe('expandSeries: exceptions', () => {
  const w = window('2026-03-16T00:00:00Z', '2026-04-01T00:00:00Z');
  const instance = (
    original: string,
    raw: Record<string, unknown>,
    deleted = false,
  ): ExceptionInput =>
    googleException(
      `exception-${original}`,
      {
        recurringEventId: 'series0001',
        originalStartTime: { dateTime: original, timeZone: BERLIN },
        ...raw,
      },
      deleted,
      BERLIN,
    )!;

  it('a moved instance replaces the occurrence at its originalStartTime', () => {
    const moved = instance('2026-03-23T09:00:00+01:00', {
      status: 'confirmed',
      start: { dateTime: '2026-03-24T14:00:00+01:00', timeZone: BERLIN },
      end: { dateTime: '2026-03-24T15:00:00+01:00', timeZone: BERLIN },
    });
    const result = expandSeries(WEEKLY_MONDAY_9(), [moved], w);
    expect(starts(result.occurrences)).toEqual([
      '2026-03-16T08:00:00.000Z',
      '2026-03-24T13:00:00.000Z',
      '2026-03-30T07:00:00.000Z',
    ]);
    expect(result.occurrences[1]).toMatchObject({
      itemId: 'exception-2026-03-23T09:00:00+01:00',
      exception: true,
      originalStart: { instant: Date.parse('2026-03-23T08:00:00Z') },
      endMs: Date.parse('2026-03-24T14:00:00Z'),
    });
  });

  it('an instance moved out of the window removes its occurrence; one moved in adds itself', () => {
    const out = instance('2026-03-30T09:00:00+02:00', {
      start: { dateTime: '2026-04-15T09:00:00+02:00' },
      end: { dateTime: '2026-04-15T10:00:00+02:00' },
    });
    const into = instance('2026-04-06T09:00:00+02:00', {
      start: { dateTime: '2026-03-27T12:00:00+01:00' },
      end: { dateTime: '2026-03-27T13:00:00+01:00' },
    });
    const result = expandSeries(WEEKLY_MONDAY_9(), [out, into], w);
    expect(starts(result.occurrences)).toEqual([
      '2026-03-16T08:00:00.000Z',
      '2026-03-23T08:00:00.000Z',
      '2026-03-27T11:00:00.000Z',
    ]);
  });

  it('a cancelled instance, by status or as a tombstone, removes its occurrence', () => {
    const byStatus = instance('2026-03-23T09:00:00+01:00', { status: 'cancelled' });
    const tombstone = instance('2026-03-30T09:00:00+02:00', { status: 'confirmed' }, true);
    expect(byStatus.cancelled && tombstone.cancelled).toBe(true);
    const result = expandSeries(WEEKLY_MONDAY_9(), [byStatus, tombstone], w);
    expect(starts(result.occurrences)).toEqual(['2026-03-16T08:00:00.000Z']);
  });
});

describe('expandSeries: limits and unreadable series', () => {
  it('skips a series with more occurrences than allowed before the window end, and says why', () => {
    const series = master(
      ['RRULE:FREQ=DAILY;COUNT=20000'],
      '2000-01-03T09:00:00+01:00',
      '2000-01-03T10:00:00+01:00',
    );
    const result = expandSeries(series, [], window('2026-03-01T00:00Z', '2026-04-01T00:00Z'));
    expect(result).toEqual({
      occurrences: [],
      skipped: 'more than 5000 occurrences from the series start to the window end',
    });
  });

  it('expands an old series without COUNT by skipping to the window', () => {
    const series = master(
      ['RRULE:FREQ=DAILY'],
      '1995-01-02T09:00:00+01:00',
      '1995-01-02T10:00:00+01:00',
    );
    const result = expandSeries(series, [], window('2026-03-01T00:00Z', '2027-03-01T00:00Z'));
    expect(result.skipped).toBeUndefined();
    expect(result.occurrences).toHaveLength(365);
  });

  it('skips a series whose rule it cannot read', () => {
    const series = master(
      ['RRULE:FREQ=WEEKLY;BYDAY=1MO'],
      '2026-03-16T09:00:00+01:00',
      '2026-03-16T10:00:00+01:00',
    );
    expect(expandSeries(series, [], window('2026-03-01T00:00Z', '2026-04-01T00:00Z'))).toEqual({
      occurrences: [],
      skipped: 'recurrence rule not understood: BYDAY with an ordinal needs FREQ=MONTHLY or YEARLY',
    });
  });
});

describe('singleOccurrence and zones', () => {
  it('an all-day single is its day in its zone', () => {
    const occ = singleOccurrence(
      'trip',
      { date: '2026-03-09' },
      { date: '2026-03-11' },
      'America/New_York',
      window('2026-03-11T02:00:00Z', '2026-03-12T00:00:00Z'),
    );
    // 10 March ends at 05:00Z on the 11th in New York (EDT began on the 8th: 04:00Z).
    expect(occ).toMatchObject({ startMs: Date.parse('2026-03-09T04:00:00Z') });
    expect(occ!.endMs).toBe(Date.parse('2026-03-11T04:00:00Z'));
  });

  it('an event that ended when the window starts is not in it', () => {
    const at = (iso: string) => ({ instant: Date.parse(iso) });
    const w = window('2026-03-16T10:00:00Z', '2026-03-16T12:00:00Z');
    expect(
      singleOccurrence('a', at('2026-03-16T09:00:00Z'), at('2026-03-16T10:00:00Z'), 'UTC', w),
    ).toBeNull();
    expect(
      singleOccurrence('b', at('2026-03-16T12:00:00Z'), at('2026-03-16T13:00:00Z'), 'UTC', w),
    ).toBeNull();
    expect(singleOccurrence('c', at('2026-03-16T10:00:00Z'), null, 'UTC', w)).not.toBeNull();
  });

  it('reads the zone from the event, then from the calendar, ignoring unknown names', () => {
    expect(googleZone({ start: { timeZone: 'Asia/Tokyo' }, calendarTimeZone: BERLIN })).toBe(
      'Asia/Tokyo',
    );
    expect(googleZone({ start: { timeZone: 'Mars/Olympus' }, calendarTimeZone: BERLIN })).toBe(
      BERLIN,
    );
    expect(googleZone({})).toBeNull();
  });
});
