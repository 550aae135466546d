import {
  SandboxNotFoundError,
  json,
  type Handler,
  type Reply,
  type SandboxServer,
} from '@pdeck/integration-sdk/sandbox';
import type { RetryReason } from './events.js';
import type { SlackFake } from './slack.fake.js';

/**
 * `/__admin/...` of the Slack fake for tests and the demo (loopback only, no auth):
 *   GET    /state                                          workspace, users, conversations, installations, request URLs
 *   GET    /events?limit=                                  requests sent to request URLs (exact headers and bodies)
 *   POST   /events/wait                                    answers once no delivery is pending
 *   POST   /events/:eventId/replay                         {retryNum?, reason?} -> {status}
 *   POST   /request-url                                    {url, appId?} -> {ok, status} after url_verification
 *   POST   /conversations/:channel/messages                {user, text, threadTs?} -> 201 message (event: message)
 *   PATCH  /conversations/:channel/messages/:ts            {text} -> message (event: message_changed)
 *   DELETE /conversations/:channel/messages/:ts            -> the deleted message (event: message_deleted)
 *   POST   /conversations/:channel/messages/:ts/reactions  {name, user} (event: reaction_added)
 *   DELETE /conversations/:channel/messages/:ts/reactions  {name, user} (event: reaction_removed)
 *   POST   /teams/:team/revoke-tokens                      {userIds?, botIds?, appId?} (event: tokens_revoked)
 *   POST   /teams/:team/uninstall                          {appId?} -> {revoked} (event: app_uninstalled)
 *   POST   /users/:user/deactivate                         later calls with the user's tokens: account_inactive
 *   POST   /rate-limit                                     {method, retryAfterSec?}: its next call answers 429
 *   POST   /oauth/tokens                                   {account?, scopes?, userScopes?, appId?} -> oauth.v2.access body
 *   POST   /oauth/expire-access-tokens                     rotating access tokens answer token_expired
 *   POST   /oauth/auto                                     {decision: "allow"|"deny", account?}; {} restores the consent page
 * plus the core's /stats (a `slack` section), /requests and /faults. User arguments take an id
 * or a handle (`alice`). A refused change (`already_reacted`, `no_reaction`) answers 400.
 */
export function mountSlackAdmin(server: SandboxServer, fake: SlackFake): void {
  const a = (method: string, path: string, handler: Handler): void =>
    server.admin(method, path, async (ctx) => {
      try {
        return await handler(ctx);
      } catch (err) {
        if (err instanceof SandboxNotFoundError) throw err;
        return json(400, { ok: false, error: (err as Error).message });
      }
    });
  const b = (body: unknown) => (body ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

  a('GET', '/state', () => json(200, fake.state()));
  a('GET', '/events', ({ query }) =>
    json(200, { sent: fake.events.sent().slice(-Number(query.get('limit') ?? 100)) }),
  );
  a('POST', '/events/wait', async (): Promise<Reply> => {
    await fake.whenIdle();
    return json(200, fake.events.stats());
  });
  a('POST', '/events/:eventId/replay', async ({ params, body }) => {
    const x = b(body);
    const status = await fake.events.replay(params.eventId, {
      retryNum: x.retryNum === undefined ? undefined : Number(x.retryNum),
      reason: str(x.reason) as RetryReason | undefined,
    });
    return json(200, { status });
  });
  a('POST', '/request-url', async ({ body }) => {
    const x = b(body);
    return json(200, await fake.setRequestUrl(String(x.url ?? ''), str(x.appId)));
  });
  a('POST', '/conversations/:channel/messages', ({ params, body }) => {
    const x = b(body);
    const m = fake.postMessage(params.channel, {
      user: String(x.user ?? ''),
      text: String(x.text ?? ''),
      threadTs: str(x.threadTs),
    });
    return json(201, m);
  });
  a('PATCH', '/conversations/:channel/messages/:ts', ({ params, body }) =>
    json(200, fake.editMessage(params.channel, params.ts, String(b(body).text ?? ''))),
  );
  a('DELETE', '/conversations/:channel/messages/:ts', ({ params }) =>
    json(200, fake.deleteMessage(params.channel, params.ts)),
  );
  for (const [method, add] of [
    ['POST', true],
    ['DELETE', false],
  ] as const)
    a(method, '/conversations/:channel/messages/:ts/reactions', ({ params, body }) => {
      const x = b(body);
      const react = add ? fake.addReaction.bind(fake) : fake.removeReaction.bind(fake);
      return json(
        200,
        react(params.channel, params.ts, String(x.name ?? ''), String(x.user ?? '')),
      );
    });
  a('POST', '/teams/:team/revoke-tokens', ({ params, body }) => {
    const x = b(body);
    const ids = (v: unknown) => (Array.isArray(v) ? v.map(String) : undefined);
    return json(
      200,
      fake.revokeTokens(
        params.team,
        { userIds: ids(x.userIds), botIds: ids(x.botIds) },
        str(x.appId),
      ),
    );
  });
  a('POST', '/teams/:team/uninstall', ({ params, body }) =>
    json(200, { revoked: fake.uninstall(params.team, str(b(body).appId)).length }),
  );
  a('POST', '/users/:user/deactivate', ({ params }) => json(200, fake.deactivate(params.user)));
  a('POST', '/rate-limit', ({ body }) => {
    const x = b(body);
    if (!str(x.method)) return json(400, { ok: false, error: 'method is required' });
    fake.forceRateLimit(String(x.method), Number(x.retryAfterSec ?? 30));
    return json(201, fake.limiter.stats());
  });
  a('POST', '/oauth/tokens', ({ body }) => {
    const x = b(body);
    const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : undefined);
    const scopes =
      x.scopes === undefined && x.userScopes === undefined
        ? undefined
        : { scopes: list(x.scopes), userScopes: list(x.userScopes) };
    return json(200, fake.issueTokens(str(x.account) ?? 'alice', scopes, str(x.appId)));
  });
  a('POST', '/oauth/expire-access-tokens', () =>
    json(200, { expired: fake.data.tokens.expireAccessTokens() }),
  );
  a('POST', '/oauth/auto', ({ body }) => {
    const x = b(body);
    const decision = x.decision === 'allow' || x.decision === 'deny' ? x.decision : undefined;
    fake.oauth.setAutoDecision(decision ? { decision, account: str(x.account) } : undefined);
    return json(200, { auto: decision ?? null });
  });
}
