import type { CalendarData } from './calendar-directory.js';
import { newEventId, seedEvent } from './event-factory.js';
import { isoDate } from '@pdeck/integration-sdk/sandbox';

const DAY = 86_400_000;

/**
 * US public holidays of `year` as Google's holiday calendar serves them: all-day (`date`),
 * transparent, public, organized by the calendar itself, ids prefixed with the date.
 */
export function seedHolidays(cal: CalendarData, year: number): void {
  const organizer = { email: cal.id, displayName: cal.summary, self: true };
  const nth = (month: number, weekday: number, n: number): number => {
    const first = Date.UTC(year, month, 1);
    const offset = (weekday - new Date(first).getUTCDay() + 7) % 7;
    if (n > 0) return first + (offset + (n - 1) * 7) * DAY;
    const last = Date.UTC(year, month + 1, 0);
    return last - ((new Date(last).getUTCDay() - weekday + 7) % 7) * DAY;
  };
  const days: Array<[string, number]> = [
    ["New Year's Day", Date.UTC(year, 0, 1)],
    ['Martin Luther King Jr. Day', nth(0, 1, 3)],
    ["Presidents' Day", nth(1, 1, 3)],
    ['Memorial Day', nth(4, 1, -1)],
    ['Juneteenth', Date.UTC(year, 5, 19)],
    ['Independence Day', Date.UTC(year, 6, 4)],
    ['Labor Day', nth(8, 1, 1)],
    ['Thanksgiving Day', nth(10, 4, 4)],
    ['Christmas Day', Date.UTC(year, 11, 25)],
  ];
  for (const [summary, day] of days) {
    const date = isoDate(day);
    seedEvent(cal, organizer, {
      id: `${date.replaceAll('-', '')}_${newEventId(summary).slice(0, 18)}`,
      summary,
      description: 'Public holiday',
      start: { date },
      end: { date: isoDate(day + DAY) },
      transparency: 'transparent',
      visibility: 'public',
    });
  }
}
