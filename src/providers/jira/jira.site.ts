import type { ConnectionCredentials, ProviderContext } from '@pdeck/integration-sdk';
import { jiraError } from './jira.errors.js';
import type { JiraSite } from './jira.types.js';

/** Keys of the chosen site in the connection's encrypted credential extras. */
export const SITE_EXTRAS = { cloudId: 'cloudId', url: 'siteUrl', name: 'siteName' } as const;

export function siteExtras(site: JiraSite): Record<string, string> {
  return {
    [SITE_EXTRAS.cloudId]: site.cloudId,
    [SITE_EXTRAS.url]: site.url,
    [SITE_EXTRAS.name]: site.name,
  };
}

/** The chosen site from credentials, or null when none is chosen yet. */
export function siteFromCredentials(credentials: ConnectionCredentials): JiraSite | null {
  const extras = credentials.extras ?? {};
  const cloudId = extras[SITE_EXTRAS.cloudId];
  const url = extras[SITE_EXTRAS.url];
  if (!cloudId || !url) return null;
  return { cloudId, url, name: extras[SITE_EXTRAS.name] || url };
}

/**
 * The site this connection syncs. Every Jira call needs it (the API lives under
 * /ex/jira/{cloudId}); a connection without one was never activated, so this is a bug or a
 * damaged row, not something a retry fixes.
 */
export async function siteOf(ctx: ProviderContext): Promise<JiraSite> {
  const site = siteFromCredentials(await ctx.credentials());
  if (site) return site;
  throw jiraError('PERMISSION', 'no Jira site is chosen for this connection', 'site_required');
}

/**
 * The host of a site URL, lower-cased (`acme.atlassian.net`): how a webhook delivery, whose
 * `issue.self` is on the site's own URL, is matched to the subscriptions of that site.
 */
export function siteHost(url: string): string | null {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return null;
  }
}
