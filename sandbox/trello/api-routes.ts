import {
  json,
  type Reply,
  type RequestContext,
  type SandboxServer,
} from '@pdeck/integration-sdk/sandbox';
import { OBJECT_ID } from './ids.js';
import { parseOAuthHeader } from './oauth1-signature.js';
import { rateLimitBody, type RateLimiter } from './rate-limits.js';
import type { BoardRec, MemberRec, TrelloData } from './trello-data.js';
import type { TokenRec, TrelloOAuth } from './trello-oauth.js';
import { boardJson, cardJson, listJson, memberJson, pick } from './views.js';
import { webhookJson, type WebhookRegistry } from './webhooks.js';

interface Caller {
  token: TokenRec;
  member: MemberRec;
}
type ApiHandler = (ctx: RequestContext, who: Caller) => Reply | Promise<Reply>;

/** Trello's errors are plain text (`invalid token`), except 429: JSON naming the limit. */
export const text = (status: number, body: string): Reply => ({
  status,
  body,
  headers: { 'content-type': 'text/plain; charset=utf-8' },
});
const NOT_FOUND = 'The requested resource was not found.';
const OK = { _value: null };

export interface ApiDeps {
  data: TrelloData;
  oauth: TrelloOAuth;
  limiter: RateLimiter;
  webhooks: WebhookRegistry;
  /** Calls per route, and calls that put key/token in the query string (a leak to catch). */
  counts: { byRoute: Record<string, number>; queryCredentials: number };
}

/**
 * The REST API under /1 that the service reads. Credentials are accepted only in the
 * `Authorization: OAuth oauth_consumer_key="..", oauth_token=".."` header, so a token leaking
 * into a URL (and from there into logs) fails loudly in tests.
 */
export function mountApiRoutes(server: SandboxServer, d: ApiDeps): void {
  const api = (method: string, path: string, handler: ApiHandler): void => {
    const name = `${method} /1${path}`;
    server.route(method, `/1${path}`, (ctx) => {
      d.counts.byRoute[name] = (d.counts.byRoute[name] ?? 0) + 1;
      if (ctx.query.has('key') || ctx.query.has('token')) d.counts.queryCredentials += 1;
      const oauth = parseOAuthHeader(ctx.req.headers.authorization);
      const key = oauth?.oauth_consumer_key;
      if (!key || !d.oauth.apps.some((a) => a.key === key)) return text(401, 'invalid key');
      const token = d.oauth.active(oauth.oauth_token, key);
      if (!token) return text(401, 'invalid token');
      const limited = d.limiter.check(key, token.token);
      if (limited) return json(429, rateLimitBody(limited));
      return handler(ctx, { token, member: d.data.member(token.idMember) });
    });
  };
  const boardOf = (id: string, who: Caller): BoardRec | Reply => {
    if (!OBJECT_ID.test(id) && !/^[A-Za-z0-9]{8}$/.test(id)) return text(400, 'invalid id');
    const board =
      d.data.boards.get(id) ?? [...d.data.boards.values()].find((b) => b.shortLink === id);
    if (!board) return text(404, NOT_FOUND);
    if (!board.idMembers.includes(who.member.id))
      return text(401, 'unauthorized permission requested');
    return board;
  };
  const withBoard =
    (h: (ctx: RequestContext, board: BoardRec, who: Caller) => Reply): ApiHandler =>
    (ctx, who) => {
      const board = boardOf(ctx.params.id, who);
      return 'status' in board ? board : h(ctx, board, who);
    };

  api('GET', '/members/:id', ({ params, query }, who) => {
    const m = who.member;
    if (![m.id, m.username, 'me'].includes(params.id))
      return text(401, 'unauthorized permission requested');
    return json(200, pick(memberJson(m, d.data), query.get('fields')));
  });
  api('GET', '/members/me/boards', ({ query }, who) => {
    const filter = (query.get('filter') ?? 'all').split(',');
    const boards = [...d.data.boards.values()]
      .filter((b) => b.idMembers.includes(who.member.id))
      .filter((b) => filter.some((f) => boardMatches(b, f)));
    return json(
      200,
      boards.map((b) => pick(boardJson(b), query.get('fields'))),
    );
  });
  api(
    'GET',
    '/boards/:id',
    withBoard(({ query }, b) => json(200, pick(boardJson(b), query.get('fields')))),
  );
  const lists = withBoard(({ params, query }, b) => {
    const filter = params.filter ?? 'open';
    if (!['all', 'open', 'closed', 'none'].includes(filter))
      return text(400, 'invalid value for filter');
    const chosen = d.data
      .listsOf(b.id)
      .filter(
        (l) =>
          filter === 'all' || (filter === 'open' && !l.closed) || (filter === 'closed' && l.closed),
      );
    return json(
      200,
      chosen.map((l) => pick(listJson(l), query.get('fields'))),
    );
  });
  api('GET', '/boards/:id/lists', lists);
  api('GET', '/boards/:id/lists/:filter', lists);
  api(
    'GET',
    '/boards/:id/members',
    withBoard(({ query }, b) =>
      json(
        200,
        b.idMembers.map((id) =>
          pick(
            memberJson(d.data.member(id), d.data),
            query.get('fields') ?? 'id,fullName,username',
          ),
        ),
      ),
    ),
  );
  // Archived cards are left out by default and by `open`/`visible`, as in Trello's card filters.
  const cards = withBoard(({ params, query }, b) => {
    const filter = params.filter ?? 'open';
    if (!['all', 'open', 'closed', 'none', 'visible'].includes(filter))
      return text(400, 'invalid value for filter');
    const chosen = d.data
      .cardsOf(b.id)
      .filter(
        (c) =>
          filter === 'all' || (filter === 'closed' ? c.closed : filter !== 'none' && !c.closed),
      );
    return json(
      200,
      chosen.map((c) => pick(cardJson(c, b), query.get('fields'))),
    );
  });
  api('GET', '/boards/:id/cards', cards);
  api('GET', '/boards/:id/cards/:filter', cards);
  api(
    'GET',
    '/boards/:id/actions',
    withBoard(({ query }, b) => boardActions(d.data, b, query)),
  );

  const createWebhook: ApiHandler = async (ctx, who) => {
    if (ctx.params.token && ctx.params.token !== who.token.token) return text(401, 'invalid token');
    const body = (ctx.body && typeof ctx.body === 'object' ? ctx.body : {}) as Record<
      string,
      unknown
    >;
    const field = (k: string) => String(body[k] ?? ctx.query.get(k) ?? '');
    const callbackURL = field('callbackURL');
    if (!/^https?:\/\/[^\s]+$/.test(callbackURL)) return text(400, 'invalid value for callbackURL');
    const board = d.data.boards.get(field('idModel'));
    if (!board || !board.idMembers.includes(who.member.id))
      return text(400, 'invalid value for idModel');
    const description = field('description');
    if (description.length > 16384) return text(400, 'invalid value for description');
    const hook = await d.webhooks.create(who.token.token, {
      callbackURL,
      idModel: board.id,
      description,
    });
    return 'error' in hook ? text(400, hook.error) : json(200, webhookJson(hook));
  };
  api('POST', '/webhooks', createWebhook);
  api('POST', '/webhooks/', createWebhook);
  api('POST', '/tokens/:token/webhooks', createWebhook);
  const ownHook = (id: string, who: Caller) => {
    const hook = d.webhooks.hooks.get(id);
    return hook && hook.token === who.token.token ? hook : undefined;
  };
  api('GET', '/webhooks/:hook', ({ params }, who) => {
    const hook = ownHook(params.hook, who);
    return hook ? json(200, webhookJson(hook)) : text(404, NOT_FOUND);
  });
  api('DELETE', '/webhooks/:hook', ({ params }, who) => {
    if (!OBJECT_ID.test(params.hook)) return text(400, 'invalid id');
    if (!ownHook(params.hook, who)) return text(404, NOT_FOUND);
    d.webhooks.delete(params.hook);
    return json(200, OK);
  });
  // /tokens/{token}/...: a member may read and delete its own tokens only.
  const ownToken = (token: string, who: Caller) => {
    const rec = d.oauth.active(token);
    return rec && rec.idMember === who.member.id ? rec : undefined;
  };
  api('GET', '/tokens/:token/webhooks', ({ params }, who) => {
    const rec = ownToken(params.token, who);
    return rec
      ? json(200, d.webhooks.ofToken(rec.token).map(webhookJson))
      : text(401, 'invalid token');
  });
  api('GET', '/tokens/:token', ({ params }, who) => {
    const rec = ownToken(params.token, who);
    if (!rec) return text(401, 'invalid token');
    return json(200, {
      id: rec.token.slice(0, 24),
      idMember: rec.idMember,
      dateCreated: rec.createdAt,
      dateExpires: rec.expiresAt === null ? null : new Date(rec.expiresAt).toISOString(),
      permissions: [
        { idModel: '*', modelType: 'Board', read: true, write: rec.scope.includes('write') },
      ],
    });
  });
  api('DELETE', '/tokens/:token', ({ params }, who) => {
    const rec = ownToken(params.token, who);
    if (!rec) return text(401, 'invalid token');
    d.oauth.revoke(rec.token);
    return json(200, OK);
  });
}

/**
 * GET /boards/{id}/actions: newest first; `since`/`before` take an action id (compared as
 * ObjectIds, i.e. by creation) or a date, both exclusive; `limit` 0-1000, default 50.
 */
function boardActions(data: TrelloData, board: BoardRec, query: URLSearchParams): Reply {
  const limit = Number(query.get('limit') ?? 50);
  if (!Number.isInteger(limit) || limit < 0 || limit > 1000)
    return text(400, 'invalid value for limit');
  const page = Number(query.get('page') ?? 0);
  if (!Number.isInteger(page) || page < 0) return text(400, 'invalid value for page');
  const bound = (name: string) => {
    const v = query.get(name);
    if (v === null || v === '') return null;
    if (OBJECT_ID.test(v)) return { id: v, ms: NaN };
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? undefined : { id: '', ms };
  };
  const since = bound('since');
  const before = bound('before');
  if (since === undefined) return text(400, 'invalid value for since');
  if (before === undefined) return text(400, 'invalid value for before');
  const types = (query.get('filter') ?? 'all').split(',');
  const picked = [...(data.actions.get(board.id) ?? [])]
    .reverse()
    .filter((a) => types.includes('all') || types.includes(a.type))
    .filter((a) => !since || (since.id ? a.id > since.id : Date.parse(a.date) > since.ms))
    .filter((a) => !before || (before.id ? a.id < before.id : Date.parse(a.date) < before.ms));
  return json(200, picked.slice(page * limit, page * limit + limit));
}

/** `filter` of /members/me/boards; `organization`, `public`, `starred` match nothing here. */
function boardMatches(b: BoardRec, filter: string): boolean {
  if (filter === 'all' || filter === 'members') return true;
  return (filter === 'open' && !b.closed) || (filter === 'closed' && b.closed);
}
