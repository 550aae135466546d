import {
  type LinkableItem,
  type LinkEvidence,
  referencesIn,
  trelloCardKey,
} from '@pdeck/integration-sdk';

/**
 * A Trello card's identity: its shortLink, the id in its URL `https://trello.com/c/<shortLink>`
 * (https://developer.atlassian.com/cloud/trello/rest/api-group-cards/). References: the Jira
 * browse URLs and other cards' URLs in its name and description. Attachments are not read by
 * the sync, so a Jira issue attached to a card (and not linked in its description) is not seen.
 */
export function trelloLinkEvidence(item: LinkableItem): LinkEvidence[] {
  const raw = typeof item.raw === 'object' && item.raw !== null ? item.raw : {};
  const shortLink = (raw as { shortLink?: unknown }).shortLink;
  const evidence: LinkEvidence[] =
    typeof shortLink === 'string' && /^[A-Za-z0-9]{6,24}$/.test(shortLink)
      ? [{ key: trelloCardKey(shortLink), role: 'identity' }]
      : [];
  return [...evidence, ...referencesIn([item.title, item.body])];
}
