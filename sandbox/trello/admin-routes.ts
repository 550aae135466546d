import { empty, json, type Handler, type SandboxServer } from '@pdeck/integration-sdk/sandbox';
import type { TrelloLimitError } from './rate-limits.js';
import type { CardInput, CardPatch } from './trello-data.js';
import type { AutoDecision } from './trello-oauth.js';
import type { TrelloFake } from './trello.fake.js';
import { webhookJson } from './webhooks.js';

/**
 * `/__admin/...` for tests and the demo (loopback only, no auth). Changes record the action
 * Trello would and deliver it to the board's webhooks, exactly like the class methods:
 *   GET    /state                       members, boards, lists, cards, tokens, webhooks, stats
 *   POST   /boards/:boardId/cards       CardInput (+ by) -> card
 *   PATCH  /cards/:cardId               {name?, desc?, due?, dueComplete?, start?, idList?, closed?, by?}
 *   POST   /cards/:cardId/archive       {by?}
 *   DELETE /cards/:cardId               -> the deleteCard action
 *   PATCH  /lists/:listId               {name, by?}
 *   POST   /tokens                      {member, scope?, expiration?} -> {token, secret}
 *   DELETE /tokens/:token               the member revokes the token in Trello
 *   POST   /oauth/auto                  {decision: 'allow'|'deny'|null, account?}
 *   POST   /rate-limit                  {count?, error?: API_TOKEN_LIMIT_EXCEEDED|API_KEY_LIMIT_EXCEEDED}
 *   GET    /webhooks, GET /deliveries?limit=, POST /deliveries/wait
 * plus the core's /stats (section `trello`), /requests and /faults.
 */
export function mountAdminRoutes(server: SandboxServer, fake: TrelloFake): void {
  const a = (method: string, path: string, handler: Handler): void =>
    server.admin(method, path, handler);
  const by = (body: unknown) => ({ by: (body as { by?: string } | undefined)?.by });
  a('GET', '/state', () => json(200, describeState(fake)));
  a('POST', '/boards/:boardId/cards', ({ params, body }) =>
    json(201, fake.createCard(params.boardId, (body ?? {}) as CardInput, by(body))),
  );
  a('PATCH', '/cards/:cardId', ({ params, body }) => {
    const { by: _by, ...patch } = (body ?? {}) as CardPatch & { by?: string };
    return json(200, fake.updateCard(params.cardId, patch, by(body)));
  });
  a('POST', '/cards/:cardId/archive', ({ params, body }) =>
    json(200, fake.archiveCard(params.cardId, by(body))),
  );
  a('DELETE', '/cards/:cardId', ({ params, body }) =>
    json(200, fake.deleteCard(params.cardId, by(body))),
  );
  a('PATCH', '/lists/:listId', ({ params, body }) =>
    json(
      200,
      fake.renameList(params.listId, String((body as { name?: string })?.name ?? ''), by(body)),
    ),
  );
  a('POST', '/tokens', ({ body }) => {
    const b = (body ?? {}) as { member?: string; scope?: string; expiration?: string };
    const rec = fake.issueToken(b.member ?? 'alice', b);
    return json(201, { token: rec.token, secret: rec.secret, idMember: rec.idMember });
  });
  a('DELETE', '/tokens/:token', ({ params }) =>
    json(200, { revoked: fake.revokeToken(params.token) }),
  );
  a('POST', '/oauth/auto', ({ body }) => {
    const b = (body ?? {}) as { decision?: string; account?: string };
    const auto: AutoDecision | undefined =
      b.decision === 'allow' || b.decision === 'deny'
        ? { decision: b.decision, account: b.account }
        : undefined;
    fake.setAutoDecision(auto);
    return json(200, { auto: auto ?? null });
  });
  a('POST', '/rate-limit', ({ body }) => {
    const b = (body ?? {}) as { count?: number; error?: TrelloLimitError };
    fake.rateLimitNext(
      b.count ?? 1,
      b.error === 'API_KEY_LIMIT_EXCEEDED' ? b.error : 'API_TOKEN_LIMIT_EXCEEDED',
    );
    return json(201, fake.limiter.stats());
  });
  a('GET', '/webhooks', () =>
    json(200, { webhooks: [...fake.webhooks.hooks.values()].map(webhookJson) }),
  );
  a('GET', '/deliveries', ({ query }) =>
    json(200, { deliveries: fake.deliveries(Number(query.get('limit') ?? 100)) }),
  );
  a('POST', '/deliveries/wait', async () => {
    await fake.whenIdle();
    return empty();
  });
}

/** Everything a person debugging the demo wants to see; token values are shortened. */
export function describeState(fake: TrelloFake): Record<string, unknown> {
  const d = fake.data;
  return {
    apps: fake.apps.map((app) => ({ key: app.key, name: app.name })),
    members: [...d.members.values()],
    boards: [...d.boards.values()].map((b) => ({
      id: b.id,
      name: b.name,
      closed: b.closed,
      idMembers: b.idMembers,
      labels: b.labels,
      lists: d.listsOf(b.id),
      cards: d
        .cardsOf(b.id)
        .map((c) => ({ id: c.id, name: c.name, idList: c.idList, closed: c.closed })),
      actions: d.actions.get(b.id)?.length ?? 0,
    })),
    tokens: [...fake.oauth.tokens.values()].map((t) => ({
      token: `${t.token.slice(0, 6)}…`,
      idMember: t.idMember,
      scope: t.scope,
      expiration: t.expiration,
      revoked: t.revoked,
    })),
    webhooks: [...fake.webhooks.hooks.values()].map(webhookJson),
    stats: fake.stats(),
  };
}
