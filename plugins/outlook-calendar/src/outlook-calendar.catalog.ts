import type { ProviderCatalogEntry } from '@pdeck/integration-sdk';

export const OUTLOOK_CALENDAR_ID = 'outlook-calendar';
/** Every API call goes here (mapped by PROVIDER_ORIGINS in sandbox mode and tests). */
export const GRAPH_API = 'https://graph.microsoft.com/v1.0';
/** The `common` tenant: work or school accounts and personal Microsoft accounts. */
const LOGIN = 'https://login.microsoftonline.com/common/oauth2/v2.0';

/**
 * Auth code + PKCE on the Microsoft identity platform
 * (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow).
 * `offline_access` yields the refresh token; /me gives the identity, so no `openid`. A refresh
 * answers a new refresh token that replaces the old one, hence `rotatesRefreshTokens`. No
 * `revokeUrl`: the v2.0 protocol documents no RFC 7009 endpoint (UNCONFIRMED that none exists),
 * and /me/revokeSignInSessions signs the user out of every app, needs User.ReadWrite.All and is
 * not supported for personal accounts. Disconnect deletes the subscription; the engine forgets
 * the tokens.
 */
export const OUTLOOK_CALENDAR_CATALOG: ProviderCatalogEntry = {
  id: OUTLOOK_CALENDAR_ID,
  displayName: 'Outlook Calendar',
  itemKinds: ['event'],
  auth: {
    scheme: 'oauth2',
    authorizeUrl: `${LOGIN}/authorize`,
    tokenUrl: `${LOGIN}/token`,
    scopes: ['offline_access', 'User.Read', 'Calendars.Read'],
    scopeSeparator: ' ',
    pkce: true,
    authorizeParams: { response_mode: 'query' },
    tokenRequestEncoding: 'form',
    clientAuth: 'body',
    rotatesRefreshTokens: true,
    deadGrantErrors: ['interaction_required', 'consent_required'],
  },
  credentials: {
    clientId: 'OUTLOOK_CALENDAR_CLIENT_ID',
    clientSecret: 'OUTLOOK_CALENDAR_CLIENT_SECRET',
  },
  sync: { defaultIntervalMinutes: 15 },
  // "10,000 API requests in a 10 minute period" per app and mailbox
  // (https://learn.microsoft.com/en-us/graph/throttling-limits); a connection is one mailbox.
  rateBudgets: [{ scope: 'connection', limit: 10_000, windowMs: 600_000 }],
};
