import type { RequestContext } from '@pdeck/integration-sdk/sandbox';

/**
 * A Web API call's arguments: the query string, overlaid by a form or JSON body (Slack takes
 * either, https://docs.slack.dev/apis/web-api/). Non-string JSON values become strings.
 */
export function callArgs({ query, body }: RequestContext): Record<string, string> {
  const args: Record<string, string> = Object.fromEntries(query);
  if (body && typeof body === 'object')
    for (const [k, v] of Object.entries(body as Record<string, unknown>))
      if (v !== undefined && v !== null) args[k] = typeof v === 'string' ? v : String(v);
  return args;
}

/** A Slack comma list (`channels:read,groups:read`, `public_channel,im`) without blanks. */
export function commaList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A boolean argument: `true` or `1`. */
export function flag(value: string | undefined): boolean {
  return value === 'true' || value === '1';
}

/** The body of Slack's `missing_scope` error: the scope needed and the token's scopes. */
export function missingScope(needed: string, scopes: string[]): Record<string, unknown> {
  return { ok: false, error: 'missing_scope', needed, provided: scopes.join(',') };
}
