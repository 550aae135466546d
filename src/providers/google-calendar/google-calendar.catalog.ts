import type { OAuth2AuthDescriptor, ProviderCatalogEntry } from '@pdeck/integration-sdk';

export const GOOGLE_CALENDAR_ID = 'google-calendar';

/** Every API call goes to this origin (mapped by PROVIDER_ORIGINS in sandbox mode and tests). */
export const GOOGLE_API_ORIGIN = 'https://www.googleapis.com';
export const CALENDAR_API = `${GOOGLE_API_ORIGIN}/calendar/v3`;

const auth: OAuth2AuthDescriptor = {
  scheme: 'oauth2',
  authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
  tokenUrl: 'https://oauth2.googleapis.com/token',
  // Used by GoogleCalendarProvider.revoke, not by the framework's RFC 7009 request: Google
  // documents a form post of `token` alone, without client credentials.
  revokeUrl: 'https://oauth2.googleapis.com/revoke',
  // calendar.readonly rather than calendar.events.readonly + calendar.calendarlist.readonly: the
  // pair is narrower (no ACLs, settings or free/busy), but the Calendar API discovery document
  // (https://www.googleapis.com/discovery/v1/apis/calendar/v3/rest) lists it only for listing
  // calendars and events. Whether events.watch and channels.stop accept it is UNCONFIRMED, and a
  // channel we cannot stop keeps calling us until it expires; calendar.readonly is listed for every
  // method we call (calendarList.get/list, events.list/watch, channels.stop). Identity comes from
  // calendarList/primary (its id is the email), so no openid/email scope.
  scopes: ['https://www.googleapis.com/auth/calendar.readonly'],
  scopeSeparator: ' ',
  // Google's OpenID discovery document lists S256
  // (https://accounts.google.com/.well-known/openid-configuration); Google enforcing it for Web
  // clients is UNCONFIRMED, so client_secret is sent as well (clientAuth 'body').
  pkce: true,
  authorizeParams: {
    // Offline access yields a refresh token; prompt=consent yields one on every connect, not only
    // the first (https://developers.google.com/identity/protocols/oauth2/web-server).
    // include_granted_scopes is deliberately absent: incremental authorization would merge any
    // other scopes the user once granted this Google project into our token, widening it beyond the
    // one scope above.
    access_type: 'offline',
    prompt: 'consent',
  },
  tokenRequestEncoding: 'form',
  clientAuth: 'body',
  // Google omits refresh_token on refresh and the old one stays valid (never-rotating is
  // UNCONFIRMED; TokenRefresher keeps the old one when none is returned, which is safe either way).
  rotatesRefreshTokens: false,
};

/**
 * Static facts about Google Calendar (data, not code). Quotas: Google enforces per-minute limits
 * per project and per project per user, and publishes no defaults (they are in the Cloud Console; a
 * 1,000,000/day figure is UNCONFIRMED). The budgets are deliberately low so a deployment stays
 * under common console values; raise them to the project's console numbers. Going over is still
 * safe: 403/429 usageLimits map to RATE_LIMITED (google-calendar.errors.ts).
 */
export const GOOGLE_CALENDAR_CATALOG: ProviderCatalogEntry = {
  id: GOOGLE_CALENDAR_ID,
  displayName: 'Google Calendar',
  itemKinds: ['event'],
  auth,
  credentials: {
    clientId: 'GOOGLE_CALENDAR_CLIENT_ID',
    clientSecret: 'GOOGLE_CALENDAR_CLIENT_SECRET',
  },
  // Push notifications keep calendars fresh; the schedule is the fallback for dropped messages
  // (delivery is not 100% reliable,
  // https://developers.google.com/workspace/calendar/api/guides/push).
  sync: { defaultIntervalMinutes: 15 },
  rateBudgets: [
    // Per user (one connection = one Google account): 5 requests/s on average per minute.
    { scope: 'connection', limit: 300, windowMs: 60_000 },
    // Per project (every connection shares the OAuth client's quota).
    { scope: 'app', limit: 5_000, windowMs: 60_000 },
  ],
};
