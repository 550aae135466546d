import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type ResolvedAppConfig } from '../../core/config/app-config.js';
import {
  isProviderError,
  type AccountIdentity,
  type IntegrationProvider,
  type ProviderCatalogEntry,
  type ProviderContext,
  type RevokeOptions,
  type SyncCursor,
  type SyncMode,
  type SyncPage,
  type SyncResource,
  type WebhookHandler,
  providerFailure,
} from '@pdeck/integration-sdk';
import {
  distributionOf,
  historyLimits,
  type HistoryLimits,
  SLACK_CATALOG,
  SLACK_ID,
  slackRateBudgets,
} from './slack.catalog.js';
import { callSlack, type SlackTokenKind, userToken } from './slack.http.js';
import { settingsProblems } from './slack.settings.js';
import { conversationPages, listConversations } from './slack.sync.js';
import type { SlackAuthTest } from './slack.types.js';
import { SlackWebhooks } from './slack.webhooks.js';
import { slackLinkEvidence } from './slack.links.js';

/**
 * Slack: a connection is one installation into one workspace (the account), with a bot token
 * and the installing user's token. The conversations the user (or, for public channels, the bot)
 * is in are the resources; their messages the `message` items. The Events API is the primary
 * source; history is a bounded, paced backfill (SLACK_APP_DISTRIBUTION sets the pace).
 */
@Injectable()
export class SlackProvider implements IntegrationProvider {
  static readonly catalog = SLACK_CATALOG;
  readonly catalog: ProviderCatalogEntry;
  readonly webhooks: WebhookHandler = new SlackWebhooks();
  readonly linkEvidence = slackLinkEvidence;
  private readonly history: HistoryLimits;

  constructor(@Inject(APP_CONFIG) config: ResolvedAppConfig) {
    const distribution = distributionOf(config.providerCredentials[SLACK_ID]);
    this.catalog = { ...SLACK_CATALOG, rateBudgets: slackRateBudgets(distribution) };
    this.history = historyLimits(distribution);
  }

  /**
   * auth.test with each token (https://docs.slack.dev/reference/methods/auth.test): the
   * workspace is the account; the bot user, the installing user, the workspace URL and the app
   * id are kept for routing events and composing permalinks.
   */
  async fetchIdentity(ctx: ProviderContext): Promise<AccountIdentity> {
    const bot = await callSlack<SlackAuthTest>(ctx, { method: 'auth.test' });
    const credentials = await ctx.credentials();
    const user = userToken(credentials)
      ? await callSlack<SlackAuthTest>(ctx, { method: 'auth.test', token: 'user' })
      : undefined;
    const teamId = bot.team_id;
    if (!teamId) {
      throw providerFailure(SLACK_ID, 'UNKNOWN', 'auth.test named no team', 'no_team');
    }
    const facts: Record<string, string> = {};
    if (bot.url) facts.workspaceUrl = bot.url;
    if (bot.user_id) facts.botUserId = bot.user_id;
    if (user?.user_id) facts.authedUserId = user.user_id;
    const extras: Record<string, string> = { ...facts, teamId };
    if (bot.enterprise_id) extras.enterpriseId = bot.enterprise_id;
    if (bot.bot_id) extras.botId = bot.bot_id;
    const who = user?.user ?? user?.user_id;
    return {
      accountId: teamId,
      label: who ? `${bot.team ?? teamId} (${who})` : (bot.team ?? teamId),
      extras,
      settings: facts,
    };
  }

  /**
   * auth.revoke for each token (https://docs.slack.dev/reference/methods/auth.revoke); with
   * token rotation it revokes just the token sent. The bot token belongs to the app's
   * installation in the workspace, which other PDeck users of that workspace may share
   * (UNCONFIRMED whether Slack hands each installing user a distinct bot token): it is revoked
   * only with the workspace's last connection, so one user's disconnect never cuts off the
   * others. A token Slack already considers dead is what we wanted.
   */
  async revoke(ctx: ProviderContext, options: RevokeOptions): Promise<void> {
    const credentials = await ctx.credentials();
    const kinds: SlackTokenKind[] = userToken(credentials) ? ['user'] : [];
    if (!options.accountInUse) kinds.push('bot');
    for (const token of kinds) {
      try {
        await callSlack(ctx, { method: 'auth.revoke', token });
      } catch (error) {
        if (!(isProviderError(error) && error.code === 'AUTH_REVOKED')) throw error;
      }
    }
  }

  listResources(ctx: ProviderContext): Promise<SyncResource[]> {
    return listConversations(ctx);
  }

  sync(
    ctx: ProviderContext,
    resource: SyncResource,
    cursor: SyncCursor | null,
    mode: SyncMode,
  ): AsyncIterable<SyncPage> {
    return conversationPages(ctx, resource, cursor, mode, { pageSize: this.history.pageSize });
  }

  /** `backfillDays` (1-90, default 7) and `taskEmoji` (default `pdeck`). */
  validateSettings(patch: Record<string, unknown>): string[] {
    return settingsProblems(patch);
  }
}
