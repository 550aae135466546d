import type { CalendarData, CalendarDirectory } from './calendar-directory.js';
import { newEventId, seedEvent as add } from './event-factory.js';
import type { EventDateTime, EventInput, EventPerson } from './event-types.js';
import { instanceId } from './event-view.js';
import { seedHolidays } from './seed-holidays.js';
import { formatDateTime, isoDate, localParts, wallToUtc } from '@pdeck/integration-sdk/sandbox';

export interface SandboxAccount {
  email: string;
  name: string;
  timeZone: string;
}

export const DEMO_ACCOUNTS: SandboxAccount[] = [
  { email: 'alice@example.com', name: 'Alice Anders', timeZone: 'Europe/Berlin' },
  { email: 'bob@example.com', name: 'Bob Brown', timeZone: 'America/New_York' },
];

/** A shared calendar in Google's new group-calendar id format; Alice owns it, Bob can write. */
export const TEAM_CALENDAR_ID =
  'c_8a1f3e5b7d9c2e4f6a8b0c1d3e5f7a9b1c3d5e7f9a0b2c4d6e8f0a1b3c5d7e9f@group.calendar.google.com';
export const HOLIDAY_CALENDAR_ID = 'en.usa#holiday@group.v.calendar.google.com';

const DAY = 86_400_000;

/**
 * Realistic demo data, anchored on the Monday of `anchor`'s week so the demo always shows
 * events around "now": per account a primary calendar (timed events with zones, an all-day
 * offsite, a weekly series with one moved and one cancelled instance, a deleted event), the
 * shared Team calendar, the public holidays calendar and a hidden, unselected archive.
 */
export function seedDemo(
  directory: CalendarDirectory,
  accounts: SandboxAccount[],
  anchor: Date,
): void {
  const monday =
    Date.UTC(anchor.getUTCFullYear(), anchor.getUTCMonth(), anchor.getUTCDate()) -
    ((anchor.getUTCDay() + 6) % 7) * DAY;
  for (const a of accounts) directory.addAccount(a.email, a.name, a.timeZone);
  const [first, second] = accounts;
  const team = directory.createCalendar({
    id: TEAM_CALENDAR_ID,
    summary: 'Team',
    timeZone: 'Europe/Berlin',
    description: 'Shared team calendar',
  });
  const holidays = directory.createCalendar({
    id: HOLIDAY_CALENDAR_ID,
    summary: 'Holidays in United States',
    timeZone: 'America/New_York',
    description: 'Holidays and Observances in United States',
  });
  accounts.forEach((a, i) => {
    directory.addToList(a.email, team.id, { accessRole: i === 0 ? 'owner' : 'writer' });
    directory.addToList(a.email, holidays.id, { accessRole: 'reader' });
    const archive = directory.createCalendar({
      id: `${newEventId(`archive:${a.email}`)}@group.calendar.google.com`,
      summary: 'Archive (old projects)',
      timeZone: a.timeZone,
    });
    directory.addToList(a.email, archive.id, {
      accessRole: 'owner',
      hidden: true,
      selected: false,
    });
    add(archive, person(a, true), {
      summary: 'Archived retrospective',
      start: at(monday, -60, 15, 0, a.timeZone),
      end: at(monday, -60, 16, 0, a.timeZone),
    });
  });
  seedPrimary(directory.calendars.get(first.email)!, first, second, monday);
  if (second) seedSecondary(directory.calendars.get(second.email)!, second, first, monday);
  const teamOrganizer = { email: team.id, displayName: team.summary, self: true };
  const tz = team.timeZone;
  add(team, teamOrganizer, {
    summary: 'Release planning',
    location: 'Room 2.14',
    start: at(monday, 2, 15, 0, tz),
    end: at(monday, 2, 16, 0, tz),
    creator: { email: first.email, displayName: first.name },
  });
  add(team, teamOrganizer, {
    summary: 'Team offsite',
    start: { date: isoDate(monday + 8 * DAY) },
    end: { date: isoDate(monday + 10 * DAY) },
    transparency: 'transparent',
  });
  add(team, teamOrganizer, {
    summary: 'Deploy freeze',
    start: { date: isoDate(monday + 11 * DAY) },
    end: { date: isoDate(monday + 12 * DAY) },
    transparency: 'transparent',
  });
  seedHolidays(holidays, new Date(monday).getUTCFullYear());
}

function seedPrimary(
  cal: CalendarData,
  me: SandboxAccount,
  other: SandboxAccount | undefined,
  monday: number,
): void {
  const tz = me.timeZone;
  const self = person(me, true);
  const guests = [{ ...self, organizer: true, responseStatus: 'accepted' as const }];
  if (other)
    guests.push({
      email: other.email,
      displayName: other.name,
      responseStatus: 'accepted',
    } as (typeof guests)[number]);
  const seriesStart = at(monday, -14, 10, 0, tz);
  const master = add(cal, self, {
    id: newEventId(`weekly:${me.email}`),
    summary: 'Weekly sync',
    description: 'Status round, 30 minutes.',
    location: 'Google Meet',
    start: seriesStart,
    end: at(monday, -14, 10, 30, tz),
    recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=12'],
    attendees: guests,
  });
  // Third occurrence moved to 11:00; fifth cancelled: the two kinds of exception.
  const third = at(monday, 0, 10, 0, tz);
  const fifth = at(monday, 14, 10, 0, tz);
  add(cal, self, {
    ...exceptionOf(master.id, master.iCalUID, third),
    summary: 'Weekly sync (moved)',
    start: at(monday, 0, 11, 0, tz),
    end: at(monday, 0, 11, 30, tz),
    attendees: guests,
    sequence: 1,
  });
  add(cal, self, {
    ...exceptionOf(master.id, master.iCalUID, fifth),
    status: 'cancelled',
    start: fifth,
    end: at(monday, 14, 10, 30, tz),
  });
  add(cal, self, {
    summary: 'Sprint review',
    description: 'Demo of the sprint results.',
    location: 'Room 4.01',
    start: at(monday, 3, 14, 0, tz),
    end: at(monday, 3, 15, 0, tz),
    attendees: [
      ...guests,
      { email: 'carol@example.org', displayName: 'Carol Chen', responseStatus: 'needsAction' },
    ],
  });
  add(cal, self, {
    summary: 'Focus time',
    eventType: 'focusTime',
    start: at(monday, 1, 13, 0, tz),
    end: at(monday, 1, 15, 0, tz),
    transparency: 'opaque',
  });
  add(cal, self, {
    summary: 'Dentist',
    status: 'tentative',
    visibility: 'private',
    start: at(monday, 2, 8, 30, tz),
    end: at(monday, 2, 9, 15, tz),
  });
  // Start and end in different zones, as a flight is entered.
  add(cal, self, {
    summary: 'Flight FRA → JFK',
    location: 'Frankfurt Airport (FRA)',
    start: at(monday, 4, 9, 15, 'Europe/Berlin'),
    end: at(monday, 4, 11, 55, 'America/New_York'),
  });
  add(cal, self, {
    summary: 'Offsite',
    start: { date: isoDate(monday + 8 * DAY) },
    end: { date: isoDate(monday + 10 * DAY) },
    transparency: 'transparent',
  });
  add(cal, self, {
    summary: 'Old planning meeting',
    status: 'cancelled',
    start: at(monday, 1, 16, 0, tz),
    end: at(monday, 1, 17, 0, tz),
  });
}

function seedSecondary(
  cal: CalendarData,
  me: SandboxAccount,
  other: SandboxAccount,
  monday: number,
): void {
  const tz = me.timeZone;
  const self = person(me, true);
  const until = isoDate(monday + 56 * DAY).replaceAll('-', '');
  add(cal, self, {
    summary: '1:1 Alice / Bob',
    start: at(monday, 2, 9, 0, tz),
    end: at(monday, 2, 9, 30, tz),
    attendees: [
      { ...self, organizer: true, responseStatus: 'accepted' },
      { email: other.email, displayName: other.name, responseStatus: 'tentative' },
    ],
  });
  add(cal, self, {
    summary: 'Gym',
    start: at(monday, 1, 7, 0, tz),
    end: at(monday, 1, 8, 0, tz),
    recurrence: [`RRULE:FREQ=WEEKLY;UNTIL=${until}T235959Z;BYDAY=TU,TH`],
    visibility: 'private',
  });
  add(cal, self, {
    summary: 'Conference day',
    location: 'Javits Center, New York',
    start: { date: isoDate(monday + 5 * DAY) },
    end: { date: isoDate(monday + 6 * DAY) },
  });
}

function exceptionOf(masterId: string, iCalUID: string, original: EventDateTime): EventInput {
  const startMs = Date.parse(original.dateTime!);
  return {
    id: instanceId(masterId, { startMs }),
    recurringEventId: masterId,
    originalStartTime: original,
    iCalUID,
  };
}

function person(a: SandboxAccount, self = false): EventPerson {
  return self
    ? { email: a.email, displayName: a.name, self: true }
    : { email: a.email, displayName: a.name };
}

/** Local wall time `h:mi` in `tz` on the day `dayOffset` days after `monday` (a UTC midnight). */
function at(monday: number, dayOffset: number, h: number, mi: number, tz: string): EventDateTime {
  const p = localParts(monday + dayOffset * DAY, 'UTC');
  return { dateTime: formatDateTime(wallToUtc(p.y, p.mo, p.d, h, mi, 0, tz), tz), timeZone: tz };
}
