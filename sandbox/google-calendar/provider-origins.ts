/**
 * The real Google origins the fake stands in for. Paths never collide (/o/oauth2/v2/auth,
 * /token, /revoke, /calendar/v3/..., /oauth2/v3/userinfo, /v1/userinfo), so one port serves all.
 */
export const GOOGLE_ORIGINS = [
  'https://accounts.google.com',
  'https://oauth2.googleapis.com',
  'https://www.googleapis.com',
  'https://openidconnect.googleapis.com',
] as const;

/**
 * The PROVIDER_ORIGINS map pointing every Google origin at the fake, e.g.
 * `{"https://accounts.google.com":"http://127.0.0.1:9100","https://oauth2.googleapis.com":...}`.
 */
export function providerOrigins(baseUrl: string): Record<string, string> {
  const origin = new URL(baseUrl).origin;
  return Object.fromEntries(GOOGLE_ORIGINS.map((o) => [o, origin]));
}
