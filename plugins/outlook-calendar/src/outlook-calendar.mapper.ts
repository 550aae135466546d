import { normalizedItem, type ItemDeletion, type NormalizedItem } from '@pdeck/integration-sdk';
import type { SyncResource } from '@pdeck/integration-sdk';

type Email = { emailAddress?: { name?: string; address?: string } } | null;
/** The fields we read (https://learn.microsoft.com/en-us/graph/api/resources/event). */
export interface GraphEvent {
  id?: string;
  '@removed'?: unknown;
  subject?: string | null;
  bodyPreview?: string | null;
  start?: { dateTime?: string; timeZone?: string } | null;
  end?: { dateTime?: string; timeZone?: string } | null;
  isAllDay?: boolean;
  isCancelled?: boolean;
  showAs?: string;
  webLink?: string | null;
  organizer?: Email;
  attendees?: Email[] | null;
  lastModifiedDateTime?: string | null;
}

/**
 * One delta page as changes. `@removed` (reason `deleted` or `changed`) means gone from the
 * window (deleted, or moved out of it): a deletion of whatever we hold under that id. An id may
 * come several times in a round; the last wins, and a page keeps only that one.
 */
export function mapDeltaPage(entries: readonly GraphEvent[], calendar: SyncResource) {
  const last = new Map<string, GraphEvent>();
  for (const e of entries) {
    if (typeof e?.id !== 'string' || !e.id) continue;
    last.delete(e.id);
    last.set(e.id, e);
  }
  const upserts: NormalizedItem[] = [];
  const deletions: ItemDeletion[] = [];
  for (const [id, e] of last) {
    if (e['@removed']) deletions.push({ kind: 'event', externalId: id });
    else upserts.push(toItem(id, e, calendar));
  }
  return { upserts, deletions };
}

export function toItem(id: string, e: GraphEvent, calendar: SyncResource): NormalizedItem {
  const version = versionOf(e.lastModifiedDateTime);
  const who = e.organizer?.emailAddress;
  return normalizedItem({
    kind: 'event',
    externalId: id,
    externalVersion: version,
    containerId: calendar.id,
    containerName: calendar.name,
    title: e.subject ?? null,
    body: e.bodyPreview || null,
    status: e.isCancelled ? 'cancelled' : e.showAs === 'tentative' ? 'tentative' : 'confirmed',
    startsAt: utc(e.start),
    endsAt: utc(e.end),
    allDay: e.isAllDay === true,
    url: e.webLink ?? null,
    assignees: (e.attendees ?? []).flatMap((a) => a?.emailAddress?.address || []),
    author: who?.name || who?.address || null,
    externalUpdatedAt: version === MIN_VERSION ? null : new Date(version.slice(0, 23) + 'Z'),
    raw: e,
  });
}

/** Below any real version: an event without lastModifiedDateTime never replaces a dated one. */
export const MIN_VERSION = '0000-00-00T00:00:00.0000000Z';

/** lastModifiedDateTime at a fixed width (7 fractional digits, UTC): text order is time order. */
export function versionOf(value: string | null | undefined): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,7}))?(?:Z|\+00:00)?$/.exec(value ?? '');
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(7, '0')}Z` : MIN_VERSION;
}

/**
 * Graph's {dateTime, timeZone} has no offset in dateTime. We send `Prefer: outlook.timezone="UTC"`
 * (UTC is also the default), so only UTC is read; any other zone is left unknown, not guessed.
 */
export function utc(value: { dateTime?: string; timeZone?: string } | null | undefined) {
  if (!value?.dateTime || !/^(utc|etc\/utc)$/i.test(value.timeZone ?? 'UTC')) return null;
  const ms = Date.parse(`${value.dateTime.replace(/Z$/i, '')}Z`);
  return Number.isFinite(ms) ? new Date(ms) : null;
}
