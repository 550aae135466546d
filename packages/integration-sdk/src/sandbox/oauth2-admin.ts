import type { AutoDecision, OAuth2Fake } from './oauth2-fake.js';
import { field } from './oauth2-request.js';
import { json } from './router.js';
import type { SandboxServer } from './sandbox-server.js';

/**
 * OAuth controls under /__admin/oauth/ for tests and the demo:
 *   GET  stats                    token requests by grant type, errors, grants, revocations
 *   POST introspect {token}       {active, account, clientId, scopes, expiresAt}
 *   POST auto {decision, account} make every authorize request allow/deny without a page
 *   POST expire-access-tokens {account?}
 *   POST revoke-grant {account, clientId?}  the user removes the app in their account settings
 *   POST tokens {account, scope, clientId?} tokens without the browser flow
 */
export function mountOAuthAdmin(server: SandboxServer, oauth: OAuth2Fake): void {
  server.admin('GET', '/oauth/stats', () => json(200, oauth.stats()));
  server.admin('POST', '/oauth/introspect', ({ body }) =>
    json(200, oauth.introspect(field(body, 'token') ?? '')),
  );
  server.admin('POST', '/oauth/auto', ({ body }) => {
    const decision = field(body, 'decision');
    const auto: AutoDecision | undefined =
      decision === 'allow' || decision === 'deny'
        ? { decision, account: field(body, 'account') }
        : undefined;
    oauth.setAutoDecision(auto);
    return json(200, { auto: auto ?? null });
  });
  server.admin('POST', '/oauth/expire-access-tokens', ({ body }) =>
    json(200, { expired: oauth.tokens.expireAccessTokens(field(body, 'account')) }),
  );
  server.admin('POST', '/oauth/revoke-grant', ({ body }) => {
    const revoked = oauth.tokens.revokeGrant(field(body, 'account') ?? '', field(body, 'clientId'));
    return json(200, { revoked });
  });
  server.admin('POST', '/oauth/tokens', ({ body }) => {
    const scopes = (field(body, 'scope') ?? '').split(' ').filter(Boolean);
    return json(
      200,
      oauth.issueTokens(field(body, 'account') ?? '', scopes, field(body, 'clientId')),
    );
  });
}
