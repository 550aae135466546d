import { type LinkableItem, type LinkEvidence, referencesIn } from '@pdeck/integration-sdk';

/**
 * A Slack message is never the thing itself; it mentions things: Jira browse URLs, Trello card
 * URLs and bare Jira keys. Read from the message's own mrkdwn (`raw.text`), where a link is
 * `<https://x|label>` (https://api.slack.com/reference/surfaces/formatting#linking-urls), so the
 * URL and its label are told apart; the plain-text body when the raw text is missing.
 */
export function slackLinkEvidence(item: LinkableItem): LinkEvidence[] {
  const raw = typeof item.raw === 'object' && item.raw !== null ? item.raw : {};
  const text = (raw as { text?: unknown }).text;
  return referencesIn([typeof text === 'string' ? text : item.body], { bareJiraKeys: true });
}
