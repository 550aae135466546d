import { Injectable } from '@nestjs/common';
import type {
  AccountIdentity,
  IntegrationProvider,
  ProviderContext,
  ProviderSite,
  SiteSelection,
  SyncCursor,
  SyncMode,
  SyncPage,
  SyncResource,
  WebhookHandler,
} from '@pdeck/integration-sdk';
import {
  ACCESSIBLE_RESOURCES_PATH,
  JIRA_CATALOG,
  JIRA_SITE_SCOPE,
  jiraPath,
} from './jira.catalog.js';
import { jiraError } from './jira.errors.js';
import { callJira } from './jira.http.js';
import { jqlProblem } from './jira.jql.js';
import { siteExtras, siteOf } from './jira.site.js';
import { fullPass, incrementalPass, reconcileDue } from './jira.sync.js';
import type { AtlassianResource, JiraSite, JiraUser } from './jira.types.js';
import { JiraWebhooks } from './jira.webhooks.js';
import { jiraLinkEvidence } from './jira.links.js';

/**
 * Jira Cloud: one site per connection (the sync resource), its issues in the connection's scope
 * (assigned to the user by default, or a JQL override) the task items.
 *
 * A grant reaches every site the user allowed, in no guaranteed order, some of them not Jira at
 * all (https://developer.atlassian.com/cloud/oauth/getting-started/making-calls-to-api): the
 * site is chosen explicitly, never the first in the list.
 */
@Injectable()
export class JiraProvider implements IntegrationProvider {
  static readonly catalog = JIRA_CATALOG;
  readonly catalog = JIRA_CATALOG;
  readonly webhooks: WebhookHandler = new JiraWebhooks();
  readonly linkEvidence = jiraLinkEvidence;
  readonly sites: SiteSelection = {
    list: (ctx) => this.jiraSites(ctx).then((sites) => sites.map(toProviderSite)),
    choose: async (ctx, siteId) => {
      const site = (await this.jiraSites(ctx)).find((s) => s.cloudId === siteId);
      if (!site) {
        throw jiraError('NOT_FOUND', `${siteId} is not a Jira site of this grant`, 'unknown_site');
      }
      return this.identityOn(ctx, site);
    },
  };

  /**
   * The Atlassian account, read from `/myself` on a Jira site (the account id is the same on
   * every site). One Jira site: it is the connection's. Several: the connection waits for a
   * choice (siteRequired). None: nothing to sync, and the connect flow says so.
   */
  async fetchIdentity(ctx: ProviderContext): Promise<AccountIdentity> {
    const sites = await this.jiraSites(ctx);
    if (sites.length === 0) {
      throw jiraError('PERMISSION', 'this Atlassian account allowed no Jira site', 'no_jira_site');
    }
    if (sites.length === 1) return this.identityOn(ctx, sites[0]);
    const me = await this.myself(ctx, sites[0]);
    return { accountId: me.accountId, label: me.label, siteRequired: true };
  }

  /** The chosen site: no call needed, it is stored with the credentials. */
  async listResources(ctx: ProviderContext): Promise<SyncResource[]> {
    const site = await siteOf(ctx);
    return [{ id: site.cloudId, name: site.name }];
  }

  sync(
    ctx: ProviderContext,
    resource: SyncResource,
    cursor: SyncCursor | null,
    mode: SyncMode,
  ): AsyncIterable<SyncPage> {
    return this.pages(ctx, resource, cursor, mode);
  }

  /** Search reports no deletions: the ids-only comparison (a full pass) runs every few hours. */
  fullPassDue(cursor: SyncCursor, now: Date): boolean {
    return reconcileDue(cursor, now);
  }

  /** `jql`: a string override of the scope (checked locally; Jira checks the rest), or null. */
  validateSettings(patch: Record<string, unknown>): string[] {
    const problems: string[] = [];
    for (const [key, value] of Object.entries(patch)) {
      if (key !== 'jql') problems.push(`${key} is not a Jira setting (allowed: jql)`);
      else if (value !== null && typeof value !== 'string')
        problems.push('jql must be a string or null');
      else if (typeof value === 'string') {
        const problem = jqlProblem(value);
        if (problem) problems.push(problem);
      }
    }
    return problems;
  }

  private async *pages(
    ctx: ProviderContext,
    resource: SyncResource,
    cursor: SyncCursor | null,
    mode: SyncMode,
  ): AsyncIterable<SyncPage> {
    const site = await siteOf(ctx);
    if (site.cloudId !== resource.id) {
      throw jiraError('NOT_FOUND', `${resource.id} is not this connection's site`, 'site_changed');
    }
    yield* mode === 'full' ? fullPass(ctx, site, cursor) : incrementalPass(ctx, site, cursor);
  }

  private async identityOn(ctx: ProviderContext, site: JiraSite): Promise<AccountIdentity> {
    const me = await this.myself(ctx, site);
    return {
      accountId: me.accountId,
      // The site name first: one person's connections differ by site.
      label: `${site.name} (${me.label})`,
      extras: siteExtras(site),
      siteId: site.cloudId,
    };
  }

  private async myself(
    ctx: ProviderContext,
    site: JiraSite,
  ): Promise<{ accountId: string; label: string }> {
    const me = await callJira<JiraUser>(ctx, {
      operation: 'myself',
      path: `${jiraPath(site.cloudId)}/myself`,
    });
    if (typeof me?.accountId !== 'string' || !me.accountId) {
      throw jiraError('UNKNOWN', '/myself has no accountId', 'no_account_id');
    }
    return { accountId: me.accountId, label: me.displayName || me.emailAddress || me.accountId };
  }

  /**
   * The Jira sites of the grant, sorted by name. A resource without the Jira scope (a
   * Confluence-only site) answers `401 scope does not match` to every Jira call: left out.
   */
  private async jiraSites(ctx: ProviderContext): Promise<JiraSite[]> {
    const resources = await callJira<AtlassianResource[]>(ctx, {
      operation: 'accessible-resources',
      path: ACCESSIBLE_RESOURCES_PATH,
    });
    if (!Array.isArray(resources)) {
      throw jiraError('UNKNOWN', 'accessible-resources is not a list', 'unexpected_shape');
    }
    const sites = resources
      .filter((r) => typeof r?.id === 'string' && r.id && typeof r.url === 'string' && r.url)
      .filter((r) => Array.isArray(r.scopes) && r.scopes.includes(JIRA_SITE_SCOPE))
      .map((r) => ({ cloudId: r.id!, url: r.url!.replace(/\/+$/, ''), name: r.name || r.url! }));
    return sites.sort((a, b) => a.name.localeCompare(b.name) || a.cloudId.localeCompare(b.cloudId));
  }
}

function toProviderSite(site: JiraSite): ProviderSite {
  return { id: site.cloudId, name: site.name, url: site.url };
}
