import { json, type Reply } from '@pdeck/integration-sdk/sandbox';

/**
 * Google API error bodies: `{error: {errors: [{domain, reason, message, ...}], code, message}}`,
 * the shape Google's API errors guide documents and clients parse `error.errors[].reason` from.
 */
export function googleError(
  code: number,
  reason: string,
  message: string,
  extra: { domain?: string; location?: string; locationType?: string; status?: string } = {},
): Reply {
  const { domain = 'global', status, ...where } = extra;
  const body: Record<string, unknown> = {
    errors: [{ domain, reason, message, ...where }],
    code,
    message,
  };
  if (status) body.status = status;
  return json(code, { error: body });
}

export const errors = {
  /** Unknown, expired or revoked bearer token (the body Google sends today). */
  unauthenticated: (): Reply =>
    json(
      401,
      {
        error: {
          code: 401,
          message:
            'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
          errors: [
            {
              message: 'Invalid Credentials',
              domain: 'global',
              reason: 'authError',
              location: 'Authorization',
              locationType: 'header',
            },
          ],
          status: 'UNAUTHENTICATED',
        },
      },
      { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
    ),
  insufficientScope: (): Reply =>
    googleError(403, 'insufficientPermissions', 'Request had insufficient authentication scopes.', {
      status: 'PERMISSION_DENIED',
    }),
  notFound: (): Reply => googleError(404, 'notFound', 'Not Found'),
  invalidParam: (message: string, location?: string): Reply =>
    googleError(400, 'invalid', message, location ? { location, locationType: 'parameter' } : {}),
  badRequest: (message: string): Reply => googleError(400, 'badRequest', message),
  fullSyncRequired: (): Reply =>
    googleError(410, 'fullSyncRequired', 'Sync token is no longer valid, a full sync is required.'),
};

export type RateLimitReason = 'rateLimitExceeded' | 'userRateLimitExceeded' | 'quotaExceeded';

const RATE_MESSAGES: Record<RateLimitReason, string> = {
  rateLimitExceeded: 'Rate Limit Exceeded',
  userRateLimitExceeded: 'User Rate Limit Exceeded',
  quotaExceeded: 'Calendar usage limits exceeded.',
};

/** Body of a 403/429 usage-limit error (Google's errors guide): domain `usageLimits`. */
export function rateLimitBody(
  status: 403 | 429,
  reason: RateLimitReason = 'rateLimitExceeded',
): unknown {
  const message = RATE_MESSAGES[reason];
  return { error: { errors: [{ domain: 'usageLimits', reason, message }], code: status, message } };
}
