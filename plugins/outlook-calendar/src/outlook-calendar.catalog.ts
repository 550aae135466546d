import type { ProviderCatalogEntry } from '@pdeck/integration-sdk';

export const OUTLOOK_CALENDAR_ID = 'outlook-calendar';
/** Every API call goes here (mapped by PROVIDER_ORIGINS in sandbox mode and tests). */
export const GRAPH_API = 'https://graph.microsoft.com/v1.0';
/** The `common` tenant: work or school accounts and personal Microsoft accounts. */
const LOGIN = 'https://login.microsoftonline.com/common/oauth2/v2.0';

/**
 * Auth code + PKCE (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow),
 * refresh tokens replaced on each refresh. No `revokeUrl`: none is documented (UNCONFIRMED that none
 * exists); /me/revokeSignInSessions ends every app's session, needs User.ReadWrite.All and fails for
 * personal accounts. Disconnect deletes the subscription and the engine forgets the tokens.
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
  // 10,000 requests per 10 minutes per app and mailbox (a connection); see
  // https://learn.microsoft.com/en-us/graph/throttling-limits
  rateBudgets: [{ scope: 'connection', limit: 10_000, windowMs: 600_000 }],
};
