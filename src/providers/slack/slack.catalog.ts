import type { ProviderCredentials } from '../../core/config/app-config.js';
import type {
  OAuth2AuthDescriptor,
  ProviderCatalogEntry,
  RateBudget,
} from '@pdeck/integration-sdk';

export const SLACK_ID = 'slack';

/** Every Web API method is `https://slack.com/api/<method>` (PROVIDER_ORIGINS maps it in sandboxes). */
export const SLACK_API = 'https://slack.com/api';

export function slackMethodUrl(method: string): string {
  return `${SLACK_API}/${method}`;
}

/**
 * Bot token scopes: public channels the bot is in, their history, reactions (the task-candidate
 * marker) and user names (https://docs.slack.dev/authentication/installing-with-oauth).
 */
export const BOT_SCOPES = ['channels:read', 'channels:history', 'reactions:read', 'users:read'];

/**
 * User token scopes: the conversations the installing user is in, private ones and direct
 * messages included (each type is listed only when its scope was granted), and reactions, so
 * the task reaction arrives from conversations the bot is not in.
 */
export const USER_SCOPES = [
  'channels:read',
  'channels:history',
  'groups:read',
  'groups:history',
  'im:read',
  'im:history',
  'mpim:read',
  'mpim:history',
  'reactions:read',
  'users:read',
];

const auth: OAuth2AuthDescriptor = {
  scheme: 'oauth2',
  // OAuth v2 (https://docs.slack.dev/authentication/installing-with-oauth): `scope` for the bot
  // token and `user_scope` for the user token, each comma-separated.
  authorizeUrl: 'https://slack.com/oauth/v2/authorize',
  tokenUrl: 'https://slack.com/api/oauth.v2.access',
  scopes: BOT_SCOPES,
  scopeSeparator: ',',
  // PKCE is opt-in per Slack app and one-way: it makes the app a public client and every refresh
  // token expire after 30 days (https://docs.slack.dev/authentication/using-pkce). A server-side
  // app authenticates with its client secret instead; `state` still binds the callback.
  pkce: false,
  authorizeParams: { user_scope: USER_SCOPES.join(',') },
  tokenRequestEncoding: 'form',
  // Slack asks for the client credentials by HTTP Basic rather than in the body
  // (https://docs.slack.dev/reference/methods/oauth.v2.access).
  clientAuth: 'basic',
  // With token rotation on (https://docs.slack.dev/authentication/using-token-rotation) access
  // tokens live 12 hours and refresh tokens are single use; without it tokens never expire and
  // no refresh happens. Either way TokenService refreshes once per connection across workers.
  rotatesRefreshTokens: true,
  // Slack has no invalid_grant: these refusals of a refresh mean only reinstalling helps.
  deadGrantErrors: [
    'invalid_refresh_token',
    'token_revoked',
    'token_expired',
    'invalid_auth',
    'account_inactive',
  ],
  // The installing user's token comes in `authed_user`, beside the bot token.
  linkedTokens: { user: 'authed_user' },
};

/** Which Slack rules apply to this app's history reads (SLACK_APP_DISTRIBUTION). */
export type SlackDistribution = 'non_marketplace' | 'marketplace' | 'internal';
export const SLACK_DISTRIBUTIONS: readonly SlackDistribution[] = [
  'non_marketplace',
  'marketplace',
  'internal',
];

export interface HistoryLimits {
  /** conversations.history and conversations.replies calls per minute and workspace, each. */
  perMinute: number;
  /** `limit` per call: at most 15 messages for non-Marketplace apps. */
  pageSize: number;
}

/**
 * Since 2025, commercially distributed apps that are not in the Slack Marketplace may call
 * conversations.history and conversations.replies once per minute, 15 messages per call
 * (https://docs.slack.dev/changelog/2025/05/29/rate-limit-changes-for-non-marketplace-apps);
 * Marketplace and internal (customer-built) apps keep Tier 3, 50+ per minute
 * (https://docs.slack.dev/apis/web-api/rate-limits). The restricted rule is the default: it is
 * what a new app gets, and pacing too slowly is safe where too fast is not.
 */
export function historyLimits(distribution: SlackDistribution): HistoryLimits {
  return distribution === 'non_marketplace'
    ? { perMinute: 1, pageSize: 15 }
    : { perMinute: 50, pageSize: 200 };
}

const MINUTE = 60_000;

/**
 * Slack's limits are per method, per workspace and per app, in one-minute windows
 * (https://docs.slack.dev/apis/web-api/rate-limits): one `account` budget per method we call.
 * conversations.list is Tier 2 (20+), users.info Tier 4 (100+), auth.revoke Tier 3 (50+),
 * auth.test allows "hundreds" (held at 100).
 */
export function slackRateBudgets(distribution: SlackDistribution): RateBudget[] {
  const history = historyLimits(distribution);
  const perMethod = (operation: string, limit: number): RateBudget => ({
    scope: 'account',
    limit,
    windowMs: MINUTE,
    operations: [operation],
  });
  return [
    perMethod('conversations.history', history.perMinute),
    perMethod('conversations.replies', history.perMinute),
    perMethod('conversations.list', 20),
    perMethod('users.info', 100),
    perMethod('auth.revoke', 50),
    perMethod('auth.test', 100),
  ];
}

/** The distribution configured for the app; an unknown value stops the service at startup. */
export function distributionOf(credentials: ProviderCredentials | undefined): SlackDistribution {
  const value = credentials?.options?.distribution ?? 'non_marketplace';
  if (!(SLACK_DISTRIBUTIONS as readonly string[]).includes(value)) {
    throw new Error(
      `Invalid configuration: SLACK_APP_DISTRIBUTION must be one of ${SLACK_DISTRIBUTIONS.join(', ')} (got "${value}")`,
    );
  }
  return value as SlackDistribution;
}

/**
 * Static facts about Slack (data, not code). The Events API is the primary source of messages;
 * history is a bounded backfill, so the schedule is relaxed.
 */
export const SLACK_CATALOG: ProviderCatalogEntry = {
  id: SLACK_ID,
  displayName: 'Slack',
  itemKinds: ['message'],
  auth,
  credentials: {
    clientId: 'SLACK_CLIENT_ID',
    clientSecret: 'SLACK_CLIENT_SECRET',
    // Events API requests are signed with it (https://docs.slack.dev/authentication/verifying-requests-from-slack).
    signingSecret: 'SLACK_SIGNING_SECRET',
    options: { distribution: 'SLACK_APP_DISTRIBUTION' },
  },
  sync: { defaultIntervalMinutes: 60 },
  rateBudgets: slackRateBudgets('non_marketplace'),
};
