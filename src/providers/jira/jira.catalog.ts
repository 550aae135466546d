import type { OAuth2AuthDescriptor, ProviderCatalogEntry } from '@pdeck/integration-sdk';

export const JIRA_ID = 'jira';

/** Every API call goes to this origin (mapped by PROVIDER_ORIGINS in sandbox mode and tests). */
export const ATLASSIAN_API_ORIGIN = 'https://api.atlassian.com';

/** The sites (cloud ids) a token reaches (https://developer.atlassian.com/cloud/oauth/getting-started/making-calls-to-api). */
export const ACCESSIBLE_RESOURCES_PATH = '/oauth/token/accessible-resources';

/** Jira's REST API v3 of one site, through the API gateway (never the site's own host). */
export function jiraPath(cloudId: string): string {
  return `/ex/jira/${encodeURIComponent(cloudId)}/rest/api/3`;
}

/** The scopes a site must list for us to sync it: a Confluence-only site lists none of them. */
export const JIRA_SITE_SCOPE = 'read:jira-work';

const auth: OAuth2AuthDescriptor = {
  scheme: 'oauth2',
  // OAuth 2.0 (3LO) for Jira (https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/).
  authorizeUrl: 'https://auth.atlassian.com/authorize',
  tokenUrl: 'https://auth.atlassian.com/oauth/token',
  // No revocation endpoint for 3LO tokens is documented (UNCONFIRMED that none exists): a
  // disconnect deletes our webhooks and forgets the tokens; users remove the app from their
  // Atlassian account's connected apps (docs/integrations/jira.md).
  scopes: ['read:jira-work', 'read:jira-user', 'manage:jira-webhook', 'offline_access'],
  scopeSeparator: ' ',
  // The Jira 3LO pages describe no PKCE (UNCONFIRMED either way); the client secret
  // authenticates the exchange.
  pkce: false,
  authorizeParams: {
    // In the Jira 3LO guide; the newer generic page omits it, and sending it is harmless.
    audience: 'api.atlassian.com',
    // The consent screen every time, so a reconnect grants scopes added since.
    prompt: 'consent',
  },
  // The token endpoint takes JSON bodies with the client credentials, on refresh too
  // (https://developer.atlassian.com/cloud/oauth/getting-started/refresh-tokens).
  tokenRequestEncoding: 'json',
  clientAuth: 'body',
  // Every refresh answers a new refresh token and retires the one sent; reusing a retired one
  // after a 10-minute leeway revokes the whole family. TokenService refreshes once per
  // connection across workers and journals the answer before storing it.
  rotatesRefreshTokens: true,
};

/**
 * Static facts about Jira Cloud (data, not code).
 *
 * Budgets: since March 2026 OAuth 2.0 apps get a points-based hourly quota per app and site, plus
 * per-second burst limits per endpoint (https://developer.atlassian.com/cloud/jira/platform/rate-limiting).
 * Atlassian publishes the points per call and the tier sizes, not a request count we could
 * enforce, so these budgets are first guesses that keep one deployment well under burst limits:
 * 10 requests/s per connection and 100/s for the app. A 429 is still safe: its Retry-After
 * blocks the connection (or the app, for quota reasons) in every worker (jira.errors.ts).
 */
export const JIRA_CATALOG: ProviderCatalogEntry = {
  id: JIRA_ID,
  displayName: 'Jira Cloud',
  itemKinds: ['task'],
  auth,
  // The client secret also verifies webhook deliveries (HS256 JWTs).
  credentials: { clientId: 'JIRA_CLIENT_ID', clientSecret: 'JIRA_CLIENT_SECRET' },
  // Webhooks keep issues fresh; the schedule catches lost deliveries and issues that left the
  // scope without an event we receive (reassigned to someone else).
  sync: { defaultIntervalMinutes: 30 },
  rateBudgets: [
    { scope: 'connection', limit: 100, windowMs: 10_000 },
    { scope: 'app', limit: 1_000, windowMs: 10_000 },
  ],
};
