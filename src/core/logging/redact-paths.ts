/** What pino writes in place of a redacted value. */
export const REDACT_CENSOR = '[redacted]';

/** Header values that authenticate a caller or carry a session: never worth keeping in a log. */
const HEADER_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-slack-signature"]',
  'req.headers["x-goog-channel-token"]',
  'res.headers["set-cookie"]',
];

/**
 * Key names that hold OAuth tokens, authorization codes, PKCE verifiers or client secrets in the
 * payloads this service handles (OAuth 2 and Trello's OAuth 1 token exchange, provider errors).
 * `code` is listed because an OAuth authorization code is a short-lived credential; the error
 * serializer moves an Error's own `code` (ECONNREFUSED, 23505...) to `errorCode` so it survives.
 */
export const SECRET_KEYS = [
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'token',
  'code',
  'code_verifier',
  'client_secret',
  'clientSecret',
  'secret',
  'password',
  'oauth_token',
  'oauth_token_secret',
  'oauth_verifier',
] as const;

/**
 * How many objects down a secret key is still found. pino's redaction has no recursive wildcard,
 * so each level is one more path per key: `key`, `*.key`, `*.*.key`, `*.*.*.key`. Three levels
 * cover `params.tokens.accessToken` (Nest Logger objects land under `params`) and
 * `err.response.access_token`. Every level costs roughly 15 µs per log line; anything deeper
 * must not be logged raw.
 */
export const REDACT_DEPTH = 3;

function secretKeyPaths(depth: number): string[] {
  const prefixes = Array.from({ length: depth + 1 }, (_, level) => '*.'.repeat(level));
  return SECRET_KEYS.flatMap((key) => prefixes.map((prefix) => `${prefix}${key}`));
}

/** Paths for pino's `redact.paths`: sensitive headers plus every secret key up to REDACT_DEPTH. */
export const REDACT_PATHS: readonly string[] = Object.freeze([
  ...HEADER_PATHS,
  ...secretKeyPaths(REDACT_DEPTH),
]);
