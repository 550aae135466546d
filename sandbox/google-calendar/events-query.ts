import type { Reply } from '@pdeck/integration-sdk/sandbox';
import { errors } from './google-errors.js';

/** events.list parameters the fake understands, parsed and validated as Google does. */
export interface EventsQuery {
  maxResults: number;
  pageToken?: string;
  syncToken?: string;
  showDeleted: boolean;
  singleEvents: boolean;
  orderBy?: 'startTime' | 'updated';
  timeMinMs?: number;
  timeMaxMs?: number;
  updatedMinMs?: number;
  q?: string;
  iCalUID?: string;
  eventTypes: string[];
}

export const EVENTS_DEFAULT_PAGE = 250;
export const EVENTS_MAX_PAGE = 2500;

/** Google's sync guide: these may not be combined with syncToken. */
const NOT_WITH_SYNC_TOKEN = [
  'iCalUID',
  'orderBy',
  'privateExtendedProperty',
  'q',
  'sharedExtendedProperty',
  'timeMin',
  'timeMax',
  'updatedMin',
];

/** RFC 3339 with a mandatory offset ("2026-03-01T00:00:00Z", "...+01:00"). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

export function parseEventsQuery(query: URLSearchParams): EventsQuery | Reply {
  const syncToken = query.get('syncToken') ?? undefined;
  if (syncToken !== undefined) {
    const clash = NOT_WITH_SYNC_TOKEN.find((p) => query.has(p));
    if (clash)
      return errors.invalidParam(
        `The '${clash}' parameter cannot be used together with syncToken.`,
        clash,
      );
    // "it is not allowed to set showDeleted to False" together with a sync token.
    if (query.get('showDeleted') === 'false') {
      return errors.invalidParam(
        'showDeleted may not be false with syncToken: deletions are always returned.',
        'showDeleted',
      );
    }
  }
  const maxResults = parseMax(query.get('maxResults'), EVENTS_DEFAULT_PAGE, EVENTS_MAX_PAGE);
  if (typeof maxResults !== 'number') return maxResults;
  const showDeleted = parseBool(query, 'showDeleted');
  const singleEvents = parseBool(query, 'singleEvents');
  if (typeof showDeleted !== 'boolean') return showDeleted;
  if (typeof singleEvents !== 'boolean') return singleEvents;
  const orderBy = query.get('orderBy') ?? undefined;
  if (orderBy !== undefined && orderBy !== 'startTime' && orderBy !== 'updated') {
    return errors.invalidParam(`Invalid value for orderBy: ${orderBy}`, 'orderBy');
  }
  if (orderBy === 'startTime' && !singleEvents) {
    return errors.badRequest('The requested ordering is not available for the particular query.');
  }
  const times: Record<string, number | undefined> = {};
  for (const name of ['timeMin', 'timeMax', 'updatedMin']) {
    const raw = query.get(name);
    if (raw === null) continue;
    if (!RFC3339.test(raw) || Number.isNaN(Date.parse(raw)))
      return errors.badRequest('Bad Request');
    times[name] = Date.parse(raw);
  }
  return {
    maxResults,
    pageToken: query.get('pageToken') ?? undefined,
    syncToken,
    showDeleted,
    singleEvents,
    orderBy,
    timeMinMs: times.timeMin,
    timeMaxMs: times.timeMax,
    updatedMinMs: times.updatedMin,
    q: query.get('q') ?? undefined,
    iCalUID: query.get('iCalUID') ?? undefined,
    eventTypes: query.getAll('eventTypes'),
  };
}

/** Values above the cap are clamped (a page "may hold fewer"); below 1 is an error. */
export function parseMax(raw: string | null, fallback: number, cap: number): number | Reply {
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    return errors.invalidParam(
      `Invalid value '${raw}'. Values must be within the range: [1, ${cap}]`,
      'maxResults',
    );
  }
  return Math.min(n, cap);
}

export function parseBool(query: URLSearchParams, name: string): boolean | Reply {
  const raw = query.get(name);
  if (raw === null) return false;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  return errors.invalidParam(`Invalid boolean value for ${name}: '${raw}'`, name);
}
