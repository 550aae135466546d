import { bearerApi } from '@pdeck/integration-sdk';
import { CALENDAR_API } from './google-calendar.catalog.js';
import { mapGoogleError } from './google-calendar.errors.js';

/**
 * One authenticated Calendar API call, by path under /calendar/v3; failures leave classified, so a
 * 410 is a CURSOR_INVALID ProviderError wherever it happens.
 */
export const callGoogle = bearerApi(CALENDAR_API, (error) => mapGoogleError(error));

/** A path segment: calendar ids hold '@' and '#' (holiday calendars), so they are encoded. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}
