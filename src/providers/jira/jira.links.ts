import {
  type LinkableItem,
  type LinkEvidence,
  hostOf,
  isIssueKey,
  jiraBareKey,
  jiraIssueKey,
  referencesIn,
} from '@pdeck/integration-sdk';

/**
 * A Jira issue's identity: its key on its site, `jira:<host>/<KEY>`, the host of its browse URL
 * (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/: `key`; the
 * mapper builds the URL from the site's URL). Its bare key `ABC-123` is an alias: a message that
 * says only `ABC-123` means this issue, but two sites may both have an `ABC-123`, which are not
 * the same issue. References: what its description links (a Trello card); links to other Jira
 * issues are relations between issues, which the detector ignores.
 */
export function jiraLinkEvidence(item: LinkableItem): LinkEvidence[] {
  const raw = typeof item.raw === 'object' && item.raw !== null ? item.raw : {};
  const key = (raw as { key?: unknown }).key;
  const host = hostOf(item.url);
  const evidence: LinkEvidence[] = [];
  if (isIssueKey(key) && host) {
    evidence.push({ key: jiraIssueKey(host, key), role: 'identity' });
    evidence.push({ key: jiraBareKey(key), role: 'alias' });
  }
  return [...evidence, ...referencesIn([item.body])];
}
