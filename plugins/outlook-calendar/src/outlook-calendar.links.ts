import type { LinkableItem, LinkEvidence } from '@pdeck/integration-sdk';

/**
 * Identity `ical:<iCalUId>` (Google Calendar's namespace: one meeting in both links), qualified by
 * the organizer. Not for occurrences and exceptions: their iCalUId "is different for each
 * occurrence" (https://learn.microsoft.com/en-us/graph/api/resources/event) and how it matches
 * Google's series UID plus original start is UNCONFIRMED, so they claim nothing.
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
