/** Google's EventDateTime: `dateTime` (+ `timeZone`) for timed events, `date` for all-day ones. */
export interface EventDateTime {
  dateTime?: string;
  date?: string;
  timeZone?: string;
}

export interface EventPerson {
  email: string;
  displayName?: string;
  self?: boolean;
}

export interface EventAttendee extends EventPerson {
  organizer?: boolean;
  responseStatus: 'needsAction' | 'declined' | 'tentative' | 'accepted';
  optional?: boolean;
}

/** An event in the Calendar v3 wire format; the fake stores exactly what it serves. */
export interface CalendarEvent {
  kind: 'calendar#event';
  etag: string;
  id: string;
  status: 'confirmed' | 'tentative' | 'cancelled';
  htmlLink: string;
  created: string;
  updated: string;
  summary?: string;
  description?: string;
  location?: string;
  colorId?: string;
  creator?: EventPerson;
  organizer?: EventPerson;
  start: EventDateTime;
  end: EventDateTime;
  endTimeUnspecified?: boolean;
  recurrence?: string[];
  recurringEventId?: string;
  originalStartTime?: EventDateTime;
  transparency?: 'opaque' | 'transparent';
  visibility?: 'default' | 'public' | 'private' | 'confidential';
  iCalUID: string;
  sequence: number;
  attendees?: EventAttendee[];
  guestsCanInviteOthers?: boolean;
  reminders?: { useDefault: boolean; overrides?: Array<{ method: string; minutes: number }> };
  eventType: 'default' | 'birthday' | 'focusTime' | 'fromGmail' | 'outOfOffice' | 'workingLocation';
}

/** What the admin API and helpers accept to create or patch an event. */
export type EventInput = Partial<Omit<CalendarEvent, 'kind' | 'etag' | 'htmlLink' | 'updated'>>;

/** Start and end instants (all-day days read as UTC midnights), for time-window filters. */
export function eventBounds(event: Pick<CalendarEvent, 'start' | 'end'>): {
  startMs: number;
  endMs: number;
} {
  return { startMs: instant(event.start), endMs: instant(event.end) };
}

export function instant(when: EventDateTime | undefined): number {
  if (!when) return Number.NaN;
  if (when.dateTime) return Date.parse(when.dateTime);
  return Date.parse(`${when.date}T00:00:00Z`);
}

/** `https://www.google.com/calendar/event?eid=...`: Google's eid is base64 of "eventId calendarId". */
export function htmlLinkFor(eventId: string, calendarId: string): string {
  const eid = Buffer.from(`${eventId} ${calendarId}`).toString('base64url');
  return `https://www.google.com/calendar/event?eid=${eid}`;
}
