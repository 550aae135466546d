import type { CalendarEvent, EventDateTime } from './event-types.js';
import { eventBounds, htmlLinkFor } from './event-types.js';
import { expandRecurrence } from './recurrence.js';
import { formatDateTime } from '@pdeck/integration-sdk/sandbox';

/**
 * What events.list serves for a stored event. A cancelled event carries only what Google
 * guarantees: `id` (plus `recurringEventId`/`originalStartTime` for a cancelled instance),
 * so clients that expect more fail here first.
 */
export function toWire(event: CalendarEvent): Record<string, unknown> {
  if (event.status !== 'cancelled') return event as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {
    kind: event.kind,
    etag: event.etag,
    id: event.id,
    status: 'cancelled',
  };
  if (event.recurringEventId) {
    out.recurringEventId = event.recurringEventId;
    out.originalStartTime = event.originalStartTime;
  }
  return out;
}

/** Instance id as Google builds it: `<masterId>_<YYYYMMDDTHHMMSSZ>` (timed) or `_<YYYYMMDD>`. */
export function instanceId(masterId: string, original: { startMs: number; date?: string }): string {
  if (original.date) return `${masterId}_${original.date.replaceAll('-', '')}`;
  const iso = new Date(original.startMs).toISOString();
  return `${masterId}_${iso.slice(0, 19).replace(/[-:]/g, '')}Z`;
}

/**
 * Expands a series master into instances (singleEvents=true): each has its own id,
 * `recurringEventId`, `originalStartTime` and no `recurrence`. Stored exceptions replace their
 * instance; `cancelSeries` marks every instance cancelled (the master was deleted).
 */
export function expandMaster(
  master: CalendarEvent,
  calendarId: string,
  calendarTz: string,
  exceptions: Map<string, CalendarEvent>,
  cancelSeries = false,
): CalendarEvent[] {
  const tz = master.start.timeZone ?? calendarTz;
  const { startMs, endMs } = eventBounds(master);
  const duration = endMs - startMs;
  const occurrences = expandRecurrence(
    master.recurrence ?? [],
    { startMs, date: master.start.date },
    tz,
  );
  return occurrences.map((occ) => {
    const id = instanceId(master.id, occ);
    const exception = exceptions.get(id);
    if (exception) return cancelSeries ? { ...exception, status: 'cancelled' as const } : exception;
    const original: EventDateTime = occ.date
      ? { date: occ.date }
      : { dateTime: formatDateTime(occ.startMs, tz), timeZone: tz };
    const end: EventDateTime = occ.date
      ? { date: new Date(occ.startMs + duration).toISOString().slice(0, 10) }
      : {
          dateTime: formatDateTime(occ.startMs + duration, tz),
          timeZone: master.end.timeZone ?? tz,
        };
    const { recurrence: _omit, ...rest } = master;
    const instance: CalendarEvent = {
      ...rest,
      id,
      htmlLink: htmlLinkFor(id, calendarId),
      recurringEventId: master.id,
      originalStartTime: original,
      start: { ...original },
      end,
    };
    if (cancelSeries) instance.status = 'cancelled';
    return instance;
  });
}

/** Finds one generated instance by id (events.get on `<masterId>_<stamp>`). */
export function findInstance(
  id: string,
  getMaster: (masterId: string) => CalendarEvent | undefined,
  calendarId: string,
  calendarTz: string,
): CalendarEvent | undefined {
  const cut = id.lastIndexOf('_');
  if (cut <= 0) return undefined;
  const master = getMaster(id.slice(0, cut));
  if (!master?.recurrence) return undefined;
  return expandMaster(master, calendarId, calendarTz, new Map()).find((e) => e.id === id);
}
