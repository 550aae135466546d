export {
  GoogleCalendarFake,
  SANDBOX_GOOGLE_CLIENT,
  type GoogleCalendarFakeOptions,
  type NewCalendarInput,
} from './google-calendar.fake.js';
export { providerOrigins, GOOGLE_ORIGINS } from './provider-origins.js';
export {
  DEMO_ACCOUNTS,
  TEAM_CALENDAR_ID,
  HOLIDAY_CALENDAR_ID,
  type SandboxAccount,
} from './seed.js';
export type { CalendarEvent, EventInput, EventDateTime } from './event-types.js';
export type { Channel, ResourceState } from './channels.js';
export { SCOPES } from './api-auth.js';
export { rateLimitBody, type RateLimitReason } from './google-errors.js';
