import { SandboxNotFoundError } from '@pdeck/integration-sdk/sandbox';
import type { CalendarData } from './calendar-directory.js';
import { buildEvent, newEventId } from './event-factory.js';
import { eventBounds, type CalendarEvent, type EventInput } from './event-types.js';
import { findInstance, instanceId } from './event-view.js';

/**
 * The edits a person makes in Google Calendar, as pure functions returning the next version
 * of an event; the fake writes it to the store (which stamps `updated`/`etag`) and pushes.
 */

/** A new event. On a primary calendar the owner organizes; on a shared one the calendar does. */
export function newEvent(
  calendar: CalendarData,
  email: string,
  input: EventInput,
  nowMs: number,
): CalendarEvent {
  const organizer =
    calendar.id === email
      ? { email, self: true }
      : { email: calendar.id, displayName: calendar.summary, self: true };
  let derived: EventInput = {};
  // An exception given by series + original start gets Google's instance id and the series UID.
  if (input.recurringEventId && input.originalStartTime && !input.id) {
    const original = input.originalStartTime;
    const { startMs } = eventBounds({ start: original, end: original });
    derived = {
      id: instanceId(input.recurringEventId, { startMs, date: original.date }),
      iCalUID: calendar.store.get(input.recurringEventId)?.iCalUID,
    };
  }
  return buildEvent(calendar, organizer, { id: newEventId(), ...derived, ...input }, nowMs);
}

/**
 * Shallow-merges a patch. Patching a generated instance of a series yields the exception, as
 * editing "this event" does in Google Calendar. Time changes bump `sequence`.
 */
export function patchedEvent(
  calendar: CalendarData,
  eventId: string,
  patch: EventInput,
): CalendarEvent {
  const current = requireEvent(calendar, eventId);
  const next = { ...current, ...patch, id: current.id, kind: 'calendar#event' } as CalendarEvent;
  const timeChanged = patch.start !== undefined || patch.end !== undefined;
  if (timeChanged && patch.sequence === undefined) next.sequence = current.sequence + 1;
  return next;
}

/** Deleting is cancelling: the event stays, with `status: "cancelled"`. */
export function cancelledEvent(calendar: CalendarData, eventId: string): CalendarEvent {
  return { ...requireEvent(calendar, eventId), status: 'cancelled' };
}

function requireEvent(calendar: CalendarData, eventId: string): CalendarEvent {
  const event =
    calendar.store.get(eventId) ??
    findInstance(eventId, (id) => calendar.store.get(id), calendar.id, calendar.timeZone);
  if (!event) throw new SandboxNotFoundError(`no event ${eventId} in ${calendar.id}`);
  return event;
}
