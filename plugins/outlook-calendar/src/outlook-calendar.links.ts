import type { LinkableItem, LinkEvidence } from '@pdeck/integration-sdk';

/**
 * An event's identity across calendars: `ical:<iCalUId>` (the namespace Google Calendar uses, so
 * one meeting seen in both links), qualified by the organizer's address. Only single events and
 * series masters: Graph's iCalUId "is different for each occurrence in a recurring series"
 * (https://learn.microsoft.com/en-us/graph/api/resources/event), and how it relates to the
 * series' iCalendar UID plus an original start (the key Google's instances use) is UNCONFIRMED,
 * so occurrences and exceptions claim nothing rather than something wrong.
 */
export function outlookLinkEvidence(item: LinkableItem): LinkEvidence[] {
  const raw = (item.raw ?? {}) as Record<string, unknown>;
  const uid = raw.iCalUId;
  if (typeof uid !== 'string' || uid === '') return [];
  if (raw.type === 'occurrence' || raw.type === 'exception') return [];
  const organizer = (raw.organizer as { emailAddress?: { address?: unknown } } | undefined)
    ?.emailAddress?.address;
  const qualifier = typeof organizer === 'string' && organizer ? organizer.toLowerCase() : '';
  return [{ key: `ical:${uid}`, role: 'identity', ...(qualifier ? { qualifier } : {}) }];
}
