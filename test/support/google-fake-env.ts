import type { GoogleCalendarFake } from '../../sandbox/google-calendar/google-calendar.fake.js';

/** What an app needs to talk to the Google fake: its origins and its first OAuth client. */
export function googleFakeEnv(fake: GoogleCalendarFake): Record<string, string> {
  return {
    PROVIDER_ORIGINS: JSON.stringify(fake.origins()),
    GOOGLE_CALENDAR_CLIENT_ID: fake.clients[0].clientId,
    GOOGLE_CALENDAR_CLIENT_SECRET: fake.clients[0].clientSecret,
  };
}
