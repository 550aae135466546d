import type { GoogleCalendarFake } from '../../sandbox/google-calendar/google-calendar.fake.js';
import {
  CALENDAR_READONLY,
  listAll,
} from '../../sandbox/google-calendar/google-calendar.test-kit.js';

/** Environment wiring a cluster to the Google Calendar sandbox. */
export function googleEnv(google: GoogleCalendarFake): Record<string, string> {
  return {
    PROVIDER_ORIGINS: JSON.stringify(google.origins()),
    // The cluster runs with NODE_ENV=production, which refuses PROVIDER_ORIGINS without this.
    ALLOW_PROVIDER_ORIGINS: 'true',
    GOOGLE_CALENDAR_CLIENT_ID: google.clients[0].clientId,
    GOOGLE_CALENDAR_CLIENT_SECRET: google.clients[0].clientSecret,
  };
}

/** Ids of the events Google has (not cancelled) in one calendar, read through its own API. */
export async function sourceEventIds(
  google: GoogleCalendarFake,
  email: string,
  calendarId: string,
): Promise<string[]> {
  const token = google.oauth.issueTokens(email, [CALENDAR_READONLY]).access_token;
  const { items } = await listAll(google, token, calendarId);
  return items.filter((e) => e.status !== 'cancelled').map((e) => e.id);
}

/** The next `pages` events.list answers take `delayMs` each (then answer normally). */
export function slowEventPages(google: GoogleCalendarFake, delayMs: number, pages: number): void {
  google.server.addFault({
    status: 200,
    pass: true,
    delayMs,
    path: /\/calendar\/v3\/calendars\/[^/]+\/events$/,
    times: pages,
  });
}
