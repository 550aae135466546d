import type { LinkableItem, LinkEvidence } from '@pdeck/integration-sdk';

/**
 * A calendar event's identity: its iCalUID, which an event keeps in every calendar it is on
 * (the same meeting seen from two accounts has two event ids, one iCalUID; `iCalUID` in
 * https://developers.google.com/calendar/api/v3/reference/events). The organizer's email is the
 * qualifier: two copies with the same organizer are more surely one meeting.
 *
 * A modified instance of a recurring series shares its series' iCalUID, so an instance's key
 * adds its original start: the series and one of its instances are not the same item, while the
 * same instance seen from two calendars is. Events carry no references: a meeting that mentions
 * a Jira issue in its description is about the issue, not the issue.
 */
export function googleCalendarLinkEvidence(item: LinkableItem): LinkEvidence[] {
  const raw = record(item.raw);
  const uid = stringOr(raw.iCalUID);
  if (!uid) return [];
  let key = `ical:${uid}`;
  if (stringOr(raw.recurringEventId)) {
    const original = originalStart(record(raw.originalStartTime));
    // Without its original start an instance cannot be told from its siblings: no evidence.
    if (!original) return [];
    key += `#${original}`;
  }
  const organizer = stringOr(record(raw.organizer).email)?.toLowerCase();
  return [{ key, role: 'identity', ...(organizer ? { qualifier: organizer } : {}) }];
}

/** `dateTime` as a UTC instant (the same instant however its offset is written), else `date`. */
function originalStart(value: Record<string, unknown>): string | undefined {
  const dateTime = stringOr(value.dateTime);
  if (dateTime) {
    const ms = Date.parse(dateTime);
    return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
  }
  const date = stringOr(value.date);
  return date && /^\d{4}-\d{2}-\d{2}$/.test(date) ? date : undefined;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/** A non-empty string, else undefined. */
export function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
