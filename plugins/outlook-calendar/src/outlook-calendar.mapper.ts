import { normalizedItem } from '@pdeck/integration-sdk';
import type { ItemDeletion, NormalizedItem, SyncResource } from '@pdeck/integration-sdk';

type Email = { emailAddress?: { name?: string; address?: string } } | null;
type Time = { dateTime?: string; timeZone?: string } | null;
type Text = 'subject' | 'bodyPreview' | 'webLink' | 'lastModifiedDateTime' | 'showAs';
/** The fields we read (https://learn.microsoft.com/en-us/graph/api/resources/event). */
export type GraphEvent = Partial<Texts & Times & Flags & People> & { '@removed'?: unknown };
type Texts = Record<Text, string | null> & { id: string };
type Times = Record<'start' | 'end', Time>;
type Flags = Record<'isAllDay' | 'isCancelled', boolean>;
type People = { organizer: Email; attendees: Email[] | null };

/**
 * `@removed` (`deleted` or `changed`) means gone from the window, deleted or moved out: a deletion.
 * An id may come several times in a round: the last wins, and a page keeps only that one.
 */
export function mapDeltaPage(entries: readonly GraphEvent[], calendar: SyncResource) {
  const byId = (e: GraphEvent) => (typeof e?.id === 'string' && e.id ? [[e.id, e] as const] : []);
  const last = [...new Map(entries.flatMap(byId))];
  return {
    upserts: last.filter(([, e]) => !e['@removed']).map(([id, e]) => toItem(id, e, calendar)),
    deletions: last.filter(([, e]) => e['@removed']).map(([id]) => deletion(id)),
  };
}

const deletion = (externalId: string): ItemDeletion => ({ kind: 'event', externalId });

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
export function utc(value: Time | undefined) {
  if (!value?.dateTime || !/^(utc|etc\/utc)$/i.test(value.timeZone ?? 'UTC')) return null;
  const ms = Date.parse(`${value.dateTime.replace(/Z$/i, '')}Z`);
  return Number.isFinite(ms) ? new Date(ms) : null;
}
