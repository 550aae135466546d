import { assembleJson, type PageCache, type Reply } from '@pdeck/integration-sdk/sandbox';
import type { CalendarData, ListEntry } from './calendar-directory.js';
import { instant, type CalendarEvent } from './event-types.js';
import { expandMaster, toWire } from './event-view.js';
import { parseEventsQuery, type EventsQuery } from './events-query.js';
import { errors } from './google-errors.js';
import {
  decodeToken,
  encodeToken,
  queryFingerprint,
  shortHash,
  type PageTokenData,
  type SyncTokenData,
} from './list-tokens.js';

/**
 * events.list: full listing (store positions, lazily generated), incremental listing (the change
 * log after the sync token's seq), or an ordered listing (materialized and sorted: fine for
 * demo calendars, slow on a 100k calendar). `nextSyncToken` only on the last page, and it
 * carries the seq from the first page, so changes made while paging show up next time.
 */
export function listEvents(
  calendar: CalendarData,
  entry: ListEntry,
  query: URLSearchParams,
  cache?: PageCache,
): Reply {
  const q = parseEventsQuery(query);
  if ('status' in q) return q;
  const cursor = startCursor(calendar, q, query);
  if ('status' in cursor) return cursor;
  const headers = { 'content-type': 'application/json; charset=UTF-8' };
  // Everything the body depends on: calendar state (seq, size, epoch), the viewer's entry, the page.
  const key = `${calendar.id}|${calendar.store.seq}|${calendar.store.size}|${entry.etag}|${q.maxResults}|${JSON.stringify(cursor)}`;
  const cached = cache?.enabled ? cache.get(key) : undefined;
  if (cached) return { status: 200, body: cached, headers };
  const page = cursor.m === 'o' ? orderedPage(calendar, q, cursor) : scanPage(calendar, q, cursor);
  const envelope: Record<string, unknown> = {
    kind: 'calendar#events',
    etag: `"p${calendar.store.seq.toString(32)}${calendar.syncEpoch}"`,
    summary: entry.summaryOverride ?? calendar.summary,
    ...(calendar.description ? { description: calendar.description } : {}),
    updated: calendar.store.lastUpdated,
    timeZone: calendar.timeZone,
    accessRole: entry.accessRole,
    defaultReminders: entry.defaultReminders,
  };
  if (page.next)
    envelope.nextPageToken = encodeToken({ ...cursor, p: page.next.p, u: page.next.u });
  let tail = '';
  if (!page.next) {
    const token: SyncTokenData = {
      r: cursor.r,
      e: cursor.e,
      s: cursor.n,
      x: q.singleEvents ? 1 : 0,
    };
    tail = `,"nextSyncToken":${JSON.stringify(encodeToken(token))}`;
  }
  // Items are pre-serialized (see scanPage), so the body is assembled around them.
  const body = assembleJson(
    `${JSON.stringify(envelope).slice(0, -1)},"items":[`,
    page.items,
    `]${tail}}`,
  );
  if (cache?.enabled) cache.set(key, body);
  return { status: 200, body, headers };
}

function startCursor(
  calendar: CalendarData,
  q: EventsQuery,
  query: URLSearchParams,
): PageTokenData | Reply {
  const r = shortHash(calendar.id);
  const f = queryFingerprint(query);
  const store = calendar.store;
  if (q.pageToken) {
    const token = decodeToken<PageTokenData>(q.pageToken);
    if (!token || token.r !== r || token.f !== f)
      return errors.invalidParam('Invalid page token value.', 'pageToken');
    if (token.m === 's' && token.e !== calendar.syncEpoch) return errors.fullSyncRequired();
    return token;
  }
  if (q.syncToken) {
    const token = decodeToken<SyncTokenData>(q.syncToken);
    // Google answers 410 for any token it can no longer use; the client's only move is a full sync.
    if (!token || token.r !== r || token.e !== calendar.syncEpoch || token.s > store.seq) {
      return errors.fullSyncRequired();
    }
    if ((token.x ?? 0) !== (q.singleEvents ? 1 : 0)) {
      return errors.invalidParam(
        'singleEvents must be the same as in the request that returned this syncToken.',
        'syncToken',
      );
    }
    return {
      r,
      e: calendar.syncEpoch,
      f,
      m: 's',
      p: store.firstChangeAfter(token.s),
      u: 0,
      n: store.seq,
      t: token.s,
    };
  }
  return { r, e: calendar.syncEpoch, f, m: q.orderBy ? 'o' : 'f', p: 0, u: 0, n: store.seq };
}

interface Page {
  /** Serialized events: ASCII strings from the generator, UTF-8 Buffers otherwise. */
  items: Array<string | Buffer>;
  next?: { p: number; u: number };
}

function scanPage(calendar: CalendarData, q: EventsQuery, cursor: PageTokenData): Page {
  const store = calendar.store;
  const syncMode = cursor.m === 's';
  // Sync mode stops at the snapshot: later writes belong to the next incremental run.
  const end = syncMode ? store.firstChangeAfter(cursor.n) : store.size;
  const items: Page['items'] = [];
  const fast = !syncMode && !hasFilters(q);
  let pos = cursor.p;
  let sub = cursor.u;
  while (pos < end && items.length < q.maxResults) {
    // Untouched generated events are confirmed and non-recurring: visible to any unfiltered query.
    const generated = fast && sub === 0 ? store.baseJson(pos) : undefined;
    if (generated !== undefined) {
      items.push(generated);
      pos += 1;
      continue;
    }
    const rows = syncMode ? changedRows(calendar, q, pos) : storedRows(calendar, q, pos);
    for (; sub < rows.length && items.length < q.maxResults; sub++) {
      if (visible(rows[sub], q, syncMode))
        items.push(Buffer.from(JSON.stringify(toWire(rows[sub]))));
    }
    if (sub >= rows.length) {
      pos += 1;
      sub = 0;
    }
  }
  return { items, next: pos < end ? { p: pos, u: sub } : undefined };
}

function orderedPage(calendar: CalendarData, q: EventsQuery, cursor: PageTokenData): Page {
  const all: CalendarEvent[] = [];
  for (let pos = 0; pos < calendar.store.size; pos++) {
    for (const row of storedRows(calendar, q, pos)) if (visible(row, q, false)) all.push(row);
  }
  const key =
    q.orderBy === 'updated'
      ? (e: CalendarEvent) => Date.parse(e.updated)
      : (e: CalendarEvent) => instant(e.start);
  all.sort((a, b) => key(a) - key(b) || a.id.localeCompare(b.id));
  const slice = all
    .slice(cursor.p, cursor.p + q.maxResults)
    .map((e) => Buffer.from(JSON.stringify(toWire(e))));
  const nextPos = cursor.p + q.maxResults;
  return { items: slice, next: nextPos < all.length ? { p: nextPos, u: 0 } : undefined };
}

/** Rows a store position contributes to a full listing. */
function storedRows(calendar: CalendarData, q: EventsQuery, pos: number): CalendarEvent[] {
  const event = calendar.store.at(pos);
  if (!event) return [];
  if (!q.singleEvents) return [event];
  if (event.recurrence) {
    const cancelled = event.status === 'cancelled';
    if (cancelled && !q.showDeleted) return [];
    return expandMaster(
      event,
      calendar.id,
      calendar.timeZone,
      calendar.store.exceptionsOf(event.id),
      cancelled,
    );
  }
  // An exception of a live series is emitted in place of its instance, with the master.
  if (event.recurringEventId && calendar.store.get(event.recurringEventId)?.recurrence) return [];
  return [event];
}

/** Rows a change-log entry contributes to an incremental listing. */
function changedRows(calendar: CalendarData, q: EventsQuery, pos: number): CalendarEvent[] {
  const change = calendar.store.changeAt(pos);
  if (!change || !change.current) return [];
  const event = change.event;
  if (q.singleEvents && event.recurrence) {
    const exceptions = calendar.store.exceptionsOf(event.id);
    return expandMaster(
      event,
      calendar.id,
      calendar.timeZone,
      exceptions,
      event.status === 'cancelled',
    );
  }
  return [event];
}

function hasFilters(q: EventsQuery): boolean {
  return (
    q.timeMinMs !== undefined ||
    q.timeMaxMs !== undefined ||
    q.updatedMinMs !== undefined ||
    q.q !== undefined ||
    q.iCalUID !== undefined ||
    q.eventTypes.length > 0
  );
}

function visible(event: CalendarEvent, q: EventsQuery, syncMode: boolean): boolean {
  if (q.eventTypes.length > 0 && !q.eventTypes.includes(event.eventType)) return false;
  if (syncMode) return true;
  // "Cancelled instances of recurring events (but not the underlying recurring event) will still
  // be included if showDeleted and singleEvents are both False."
  // (https://developers.google.com/calendar/api/v3/reference/events/list)
  const keptInstance = event.recurringEventId !== undefined && !q.singleEvents;
  if (
    event.status === 'cancelled' &&
    !q.showDeleted &&
    q.updatedMinMs === undefined &&
    !keptInstance
  ) {
    return false;
  }
  if (q.updatedMinMs !== undefined && Date.parse(event.updated) < q.updatedMinMs) return false;
  if (q.iCalUID !== undefined && event.iCalUID !== q.iCalUID) return false;
  if (q.q !== undefined) {
    const text =
      `${event.summary ?? ''} ${event.description ?? ''} ${event.location ?? ''}`.toLowerCase();
    if (!text.includes(q.q.toLowerCase())) return false;
  }
  if (q.timeMinMs !== undefined || q.timeMaxMs !== undefined) {
    // timeMin filters on the end, timeMax on the start; a series master counts as open-ended.
    const endMs = event.recurrence ? Number.POSITIVE_INFINITY : instant(event.end);
    if (q.timeMinMs !== undefined && !(endMs > q.timeMinMs)) return false;
    if (q.timeMaxMs !== undefined && !(instant(event.start) < q.timeMaxMs)) return false;
  }
  return true;
}
