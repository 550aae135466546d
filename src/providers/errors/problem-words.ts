/**
 * Error codes a connection or a sync run records (`last_error`, ProviderError codes, token
 * endpoint errors), in words a person can act on. Codes are never shown raw alone.
 */
const PROBLEMS: Record<string, string> = {
  invalid_grant: 'The provider no longer accepts this sign-in (it was revoked or has expired).',
  token_revoked: 'Access was revoked at the provider.',
  token_expired: 'The sign-in has expired.',
  invalid_refresh_token: 'The provider no longer accepts this sign-in.',
  account_inactive: 'The account is deactivated at the provider.',
  AUTH_REVOKED: 'Access was revoked at the provider.',
  PERMISSION: 'The account is no longer allowed to read this data.',
  RATE_LIMITED: 'The provider is limiting requests; syncing resumes on its own.',
  TEMPORARY: 'The provider was unavailable; it is tried again on its own.',
  NOT_FOUND: 'Something this connection syncs no longer exists at the provider.',
  CURSOR_INVALID: 'The provider asked for a full sync; it runs on its own.',
  UNKNOWN: 'The provider answered in an unexpected way.',
};

export function describeProblem(code: string | null | undefined): string {
  if (!code) return 'No reason was given.';
  if (code.startsWith('revoke_failed'))
    return 'The provider could not be told about the disconnect.';
  return PROBLEMS[code] ?? `The provider reported a problem (${code.slice(0, 80)}).`;
}
