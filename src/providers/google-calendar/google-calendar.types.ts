/**
 * The Calendar API v3 JSON this integration reads, in the shapes of the Calendar API discovery
 * document (https://www.googleapis.com/discovery/v1/apis/calendar/v3/rest). Every field is optional
 * except ids: cancelled events can carry nothing but `id` (same document).
 */

export interface GoogleEventDateTime {
  /** All-day events: `YYYY-MM-DD`. */
  date?: string;
  /** Timed events: RFC 3339, normally with an offset. */
  dateTime?: string;
  /** IANA zone the event was created in. */
  timeZone?: string;
}

export interface GooglePerson {
  email?: string;
  displayName?: string;
  self?: boolean;
}

export interface GoogleAttendee extends GooglePerson {
  responseStatus?: string;
  optional?: boolean;
  organizer?: boolean;
  /** Rooms and equipment: not people, so never assignees. */
  resource?: boolean;
}

export interface GoogleEvent {
  id: string;
  status?: 'confirmed' | 'tentative' | 'cancelled';
  etag?: string;
  htmlLink?: string;
  created?: string;
  updated?: string;
  summary?: string;
  description?: string;
  location?: string;
  start?: GoogleEventDateTime;
  end?: GoogleEventDateTime;
  endTimeUnspecified?: boolean;
  iCalUID?: string;
  sequence?: number;
  eventType?: string;
  recurrence?: string[];
  recurringEventId?: string;
  originalStartTime?: GoogleEventDateTime;
  organizer?: GooglePerson;
  creator?: GooglePerson;
  attendees?: GoogleAttendee[];
  transparency?: string;
  visibility?: string;
  hangoutLink?: string;
}

export interface GoogleEventsPage {
  items?: GoogleEvent[];
  /** The calendar's zone. */
  timeZone?: string;
  summary?: string;
  nextPageToken?: string;
  /** Only on the last page (https://developers.google.com/workspace/calendar/api/guides/sync). */
  nextSyncToken?: string;
}

export interface GoogleCalendarListEntry {
  id: string;
  summary?: string;
  summaryOverride?: string;
  timeZone?: string;
  primary?: boolean;
  /** Shown in the user's Google Calendar UI. */
  selected?: boolean;
  hidden?: boolean;
  deleted?: boolean;
  accessRole?: string;
}

export interface GoogleCalendarList {
  items?: GoogleCalendarListEntry[];
  nextPageToken?: string;
}

export interface GoogleChannel {
  kind?: string;
  id: string;
  resourceId?: string;
  resourceUri?: string;
  token?: string;
  /** Milliseconds since the epoch; int64, which Google APIs may serialize as a string. */
  expiration?: string | number;
}

export interface GoogleErrorItem {
  domain?: string;
  reason?: string;
  message?: string;
}

/** `{"error":{"code":403,"message":"...","errors":[{"domain":"usageLimits","reason":"..."}]}}` */
export interface GoogleErrorBody {
  error?: {
    code?: number;
    message?: string;
    status?: string;
    errors?: GoogleErrorItem[];
  };
}
