/**
 * The real Trello origins the fake stands in for: OAuth 1.0a lives on trello.com, the REST API
 * on api.trello.com. Their paths never collide (/1/OAuth* vs /1/members, /1/boards, ...), so one
 * port serves both.
 */
export const TRELLO_ORIGINS = ['https://trello.com', 'https://api.trello.com'] as const;

/** PROVIDER_ORIGINS for the service: `{"https://trello.com":"http://127.0.0.1:9101",...}`. */
export function providerOrigins(baseUrl: string): Record<string, string> {
  const origin = new URL(baseUrl).origin;
  return Object.fromEntries(TRELLO_ORIGINS.map((o) => [o, origin]));
}
