import { bearerCall, type BearerCall, type ProviderContext } from '@pdeck/integration-sdk';
import { mapGoogleError } from './google-calendar.errors.js';

export type GoogleCall = BearerCall;

/**
 * One authenticated Calendar API call; failures leave classified, so a 410 is a CURSOR_INVALID
 * ProviderError wherever it happens.
 */
export function callGoogle<T>(ctx: ProviderContext, call: GoogleCall): Promise<T> {
  return bearerCall<T>(ctx, call, (error) => mapGoogleError(error));
}

/** A path segment: calendar ids hold '@' and '#' (holiday calendars), so they are encoded. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}
