import { randomUUID } from 'node:crypto';
import { json, type Reply } from '@pdeck/integration-sdk/sandbox';

/**
 * Graph's error body (https://learn.microsoft.com/en-us/graph/errors): `code` is what clients
 * branch on; `innerError` carries the request id and date.
 */
export function graphError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Reply {
  const innerError = { date: new Date().toISOString(), 'request-id': randomUUID() };
  return json(status, { error: { code, message, innerError } }, headers);
}

/** AADSTS numbers the fake puts in token errors (illustrative; clients must not branch on them). */
const AADSTS: Record<string, number> = {
  invalid_grant: 70000,
  invalid_client: 7000215,
  invalid_request: 900144,
  unsupported_grant_type: 70003,
  redirect_uri_mismatch: 50011,
};

/**
 * Turns the SDK fake's RFC 6749 error body into the identity platform's shape
 * (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow):
 * `error`, `error_description` starting with the AADSTS code, `error_codes`, `timestamp`,
 * `trace_id`, `correlation_id`. A redirect URI mismatch is `invalid_grant` there.
 */
export function identityPlatformError(reply: Reply): Reply {
  const body = reply.body as { error?: string; error_description?: string } | undefined;
  if (reply.status < 400 || !body?.error) return reply;
  const error = body.error === 'redirect_uri_mismatch' ? 'invalid_grant' : body.error;
  const number = AADSTS[body.error] ?? 90000;
  return {
    ...reply,
    status: error === 'invalid_client' ? 401 : 400,
    body: {
      error,
      error_description: `AADSTS${number}: ${body.error_description ?? error}`,
      error_codes: [number],
      timestamp: new Date()
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z'),
      trace_id: randomUUID(),
      correlation_id: randomUUID(),
    },
  };
}
