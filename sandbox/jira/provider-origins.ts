/**
 * The real Atlassian origins the fake stands in for: OAuth 2.0 (3LO) on auth.atlassian.com,
 * accessible-resources and the Jira REST API (`/ex/jira/{cloudId}/...`) on api.atlassian.com.
 * Their paths never collide (`/authorize`, `/oauth/token` vs `/oauth/token/accessible-resources`,
 * `/ex/...`), so one port serves both.
 */
export const JIRA_ORIGINS = ['https://auth.atlassian.com', 'https://api.atlassian.com'] as const;

/** PROVIDER_ORIGINS for the service: `{"https://auth.atlassian.com":"http://127.0.0.1:9102",...}`. */
export function providerOrigins(baseUrl: string): Record<string, string> {
  const origin = new URL(baseUrl).origin;
  return Object.fromEntries(JIRA_ORIGINS.map((o) => [o, origin]));
}
