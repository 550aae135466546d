/**
 * The real Slack origin the fake stands in for: OAuth v2 (`/oauth/v2/authorize`) and the Web API
 * (`/api/<method>`, oauth.v2.access included) both live on https://slack.com.
 */
export const SLACK_ORIGINS = ['https://slack.com'] as const;

/** PROVIDER_ORIGINS for the service: `{"https://slack.com":"http://127.0.0.1:9103"}`. */
export function providerOrigins(baseUrl: string): Record<string, string> {
  const origin = new URL(baseUrl).origin;
  return Object.fromEntries(SLACK_ORIGINS.map((o) => [o, origin]));
}
