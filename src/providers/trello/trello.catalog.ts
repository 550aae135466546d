import type { OAuth1AuthDescriptor, ProviderCatalogEntry } from '@pdeck/integration-sdk';

export const TRELLO_ID = 'trello';

/** Every API call goes to this origin (mapped by PROVIDER_ORIGINS in sandbox mode and tests). */
export const TRELLO_API_ORIGIN = 'https://api.trello.com';
export const TRELLO_API = `${TRELLO_API_ORIGIN}/1`;

const auth: OAuth1AuthDescriptor = {
  scheme: 'oauth1',
  // Trello's OAuth 1.0a endpoints, HMAC-SHA1 signatures
  // (https://developer.atlassian.com/cloud/trello/guides/rest-api/authorization/).
  requestTokenUrl: 'https://trello.com/1/OAuthGetRequestToken',
  authorizeUrl: 'https://trello.com/1/OAuthAuthorizeToken',
  accessTokenUrl: 'https://trello.com/1/OAuthGetAccessToken',
  authorizeParams: {
    // Shown on Trello's consent screen.
    name: 'PDeck',
    // Read only: we never write to Trello's data. UNCONFIRMED that a read token may create
    // webhooks and delete itself: Trello's documentation only says webhooks watch what the token
    // can see (https://developer.atlassian.com/cloud/trello/guides/rest-api/webhooks/). If Trello
    // refused, subscribe fails (the schedule still syncs) and disconnect records revoke_failed
    // and goes ahead; neither widens what we can do to a user's boards.
    scope: 'read',
    // Always explicit: the default when it is omitted differs between Trello's own clients.
    // There is no refresh flow, so a token that expired would silently end the connection.
    expiration: 'never',
  },
};

/**
 * Static facts about Trello (data, not code).
 *
 * Budgets: Trello allows 300 requests / 10 s per API key (shared by every user of our key) and
 * 100 / 10 s per token (https://developer.atlassian.com/cloud/trello/guides/rest-api/rate-limits).
 * We admit 80% of each, because our window (a sliding log in Redis) counts when a request is
 * admitted, not when Trello receives it: network jitter can bunch requests admitted near a window
 * edge into one Trello window, and whatever else uses the same key (a second deployment, a
 * developer's script) is invisible to us. Going over is expensive:
 * after 200 rejected calls Trello blocks the whole key for the rest of the window (same page).
 *
 * Not expressible here: `/1/members/*` has its own 100 requests / 900 s limit per token. We call
 * it for the identity and for the board list (listResources, once per sync run); a 429 from it
 * maps to RATE_LIMITED with a longer wait (trello.errors.ts).
 */
export const TRELLO_CATALOG: ProviderCatalogEntry = {
  id: TRELLO_ID,
  displayName: 'Trello',
  itemKinds: ['task'],
  auth,
  // The API key is public (it identifies the app); the secret signs OAuth 1.0a and webhooks.
  credentials: { clientId: 'TRELLO_API_KEY', clientSecret: 'TRELLO_API_SECRET' },
  // Webhooks keep boards fresh; the schedule is the fallback for lost deliveries and for
  // "excluded" action types that never show up in the action history
  // (https://developer.atlassian.com/cloud/trello/guides/rest-api/action-types/).
  sync: { defaultIntervalMinutes: 30 },
  rateBudgets: [
    { scope: 'connection', limit: 80, windowMs: 10_000 },
    { scope: 'app', limit: 240, windowMs: 10_000 },
  ],
};
