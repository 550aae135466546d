import { Logger } from '@nestjs/common';
import { startRecordingServer, type SeenRequest } from '../../../test/support/recording-server.js';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { APP_CONFIG, type ResolvedAppConfig } from '../../core/config/app-config.js';
import { parseConfig } from '../../core/config/load-config.js';
import { credentialsEnvOf } from '../integrations.js';
import { standaloneContextFactory } from '../testing.js';
import {
  isProviderError,
  type ProviderError,
  INTEGRATION_PROVIDERS,
  type IntegrationProvider,
  type ProviderContext,
  type SyncCursor,
  type SyncMode,
  type SyncPage,
  type StoredWebhookSubscription,
} from '@pdeck/integration-sdk';
import { ProviderRegistry } from '../provider-registry.js';
import { TrelloProvider } from './trello.provider.js';
import type { TrelloAction, TrelloCard, TrelloList } from './trello.types.js';

const TOKEN = 'user-token-0123456789abcdef';
const AUTH = `OAuth oauth_consumer_key="app-key", oauth_token="${TOKEN}"`;
const BOARD = { id: 'board-1', name: 'Product' };

type Seen = SeenRequest;

/** A tiny Trello: one board's lists, cards and actions, plus whatever a test overrides. */
interface FakeBoard {
  lists: TrelloList[];
  cards: TrelloCard[];
  /** Oldest first. */
  actions: TrelloAction[];
}

let fake: { origin: string; close(): Promise<void> };
let origin: string;
let seen: Seen[];
let board: FakeBoard;
let override: ((s: Seen) => [number, unknown] | undefined) | undefined;
let provider: TrelloProvider;
let config: ResolvedAppConfig;

const at = (second: number) => new Date(Date.UTC(2026, 2, 4, 9, 0, second)).toISOString();
const actionId = (n: number) => n.toString(16).padStart(24, '0');
const action = (n: number, type: string, data: TrelloAction['data'] = {}): TrelloAction => ({
  id: actionId(n),
  type,
  date: at(n),
  data: { board: { id: BOARD.id }, ...data },
});
const card = (id: string, second: number, extra: Partial<TrelloCard> = {}): TrelloCard => ({
  id,
  name: `Card ${id}`,
  idBoard: BOARD.id,
  idList: 'list-todo',
  closed: false,
  dueComplete: false,
  dateLastActivity: at(second),
  idMembers: ['member-1'],
  labels: [],
  shortUrl: `https://trello.com/c/${id}`,
  ...extra,
});

function actionsAnswer(query: Record<string, string>): TrelloAction[] {
  const key = (a: TrelloAction) => `${a.date}|${a.id}`;
  const find = (id: string) => board.actions.find((a) => a.id === id);
  let list = [...board.actions].sort((a, b) => (key(a) < key(b) ? 1 : -1));
  const since = query.since ? find(query.since) : undefined;
  const before = query.before ? find(query.before) : undefined;
  if (since) list = list.filter((a) => key(a) > key(since));
  if (before) list = list.filter((a) => key(a) < key(before));
  return list.slice(0, Number(query.limit ?? 50));
}

function route(s: Seen): [number, unknown] {
  const custom = override?.(s);
  if (custom) return custom;
  const p = s.path;
  if (s.method === 'DELETE' && p === `/1/tokens/${TOKEN}`) return [200, ''];
  if (p === '/1/members/me') return [200, { id: 'member-1', username: 'ana', fullName: 'Ana' }];
  if (p === '/1/members/me/boards')
    return [
      200,
      [BOARD, { id: 'board-2', name: 'Ops' }, { id: 'board-3', name: 'Old', closed: true }],
    ];
  if (p === `/1/boards/${BOARD.id}/actions`) return [200, actionsAnswer(s.query)];
  if (p === `/1/boards/${BOARD.id}/lists/all`) return [200, board.lists];
  if (p === `/1/boards/${BOARD.id}/members`) return [200, [{ id: 'member-1', username: 'ana' }]];
  if (p === `/1/boards/${BOARD.id}/cards/open`) return [200, board.cards.filter((c) => !c.closed)];
  return [404, 'not found'];
}

beforeAll(async () => {
  Logger.overrideLogger(false);
  fake = await startRecordingServer((entry) => {
    seen.push(entry);
    return route(entry);
  });
  origin = fake.origin;
  config = parseConfig(
    {
      PROVIDER_ORIGINS: JSON.stringify({ 'https://api.trello.com': origin }),
      TRELLO_API_KEY: 'app-key',
      TRELLO_API_SECRET: 'app-secret',
    },
    credentialsEnvOf([TrelloProvider]),
  ) as ResolvedAppConfig;
  provider = new TrelloProvider(config);
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  seen = [];
  override = undefined;
  board = {
    lists: [
      { id: 'list-todo', name: 'To Do', closed: false },
      { id: 'list-done', name: 'Done', closed: false },
      { id: 'list-old', name: 'Old', closed: true },
    ],
    cards: [],
    actions: [action(1, 'createBoard')],
  };
});

function context(settings: Record<string, unknown> = {}): ProviderContext {
  return standaloneContextFactory(config).create({
    provider: 'trello',
    connectionId: 'conn-1',
    accountId: 'member-1',
    settings,
    credentials: async () => ({ accessToken: TOKEN, tokenSecret: 'token-secret' }),
  });
}

async function collect(
  cursor: SyncCursor | null,
  mode: SyncMode,
  ctx = context(),
): Promise<SyncPage[]> {
  const pages: SyncPage[] = [];
  for await (const page of provider.sync(ctx, BOARD, cursor, mode)) pages.push(page);
  return pages;
}

async function failure(run: () => Promise<unknown>): Promise<ProviderError> {
  try {
    await run();
  } catch (error) {
    if (isProviderError(error)) return error;
    throw error;
  }
  throw new Error('expected a ProviderError');
}

describe('wiring', () => {
  it('is built by Nest with the API key from APP_CONFIG, next to the registry', async () => {
    const moduleRef = await Test.createTestingModule({
      providers: [
        { provide: APP_CONFIG, useValue: config },
        TrelloProvider,
        {
          provide: INTEGRATION_PROVIDERS,
          inject: [TrelloProvider],
          useFactory: (...p: IntegrationProvider[]) => p,
        },
        ProviderRegistry,
      ],
    }).compile();
    const registered = moduleRef.get(ProviderRegistry).getEnabled('trello');
    await registered.fetchIdentity(context());
    expect(seen[0].auth).toBe(AUTH);
    await moduleRef.close();
  });
});

describe('auth and identity', () => {
  it('sends key and token in the OAuth header only, never in the query string', async () => {
    const identity = await provider.fetchIdentity(context());
    expect(identity).toEqual({ accountId: 'member-1', label: 'ana' });
    expect(seen[0].auth).toBe(AUTH);
    expect(seen[0].query).toEqual({ fields: 'id,username,fullName' });
    for (const s of seen)
      expect(JSON.stringify(s.query)).not.toMatch(/app-key|user-token|token=|key=/);
  });

  it('401 invalid token: AUTH_REVOKED', async () => {
    override = () => [401, 'invalid token'];
    const error = await failure(() => provider.fetchIdentity(context()));
    expect(error.code).toBe('AUTH_REVOKED');
  });

  it('revoke deletes the token; a failure carries no token anywhere', async () => {
    await provider.revoke(context());
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([`DELETE /1/tokens/${TOKEN}`]);
    expect(seen[0].auth).toBe(AUTH);
    override = () => [401, 'invalid token']; // revoked in Trello already: nothing left to do
    await provider.revoke(context());
    override = () => [500, 'oops'];
    const error = await failure(() => provider.revoke(context()));
    expect(error.code).toBe('TEMPORARY');
    expect(error.cause).toBeUndefined();
    expect(JSON.stringify({ m: error.message, d: error.detail })).not.toContain(TOKEN);
  });
});

describe('listResources', () => {
  it('lists open boards, narrowed by settings.boardIds', async () => {
    expect(await provider.listResources(context())).toEqual([
      BOARD,
      { id: 'board-2', name: 'Ops' },
    ]);
    expect(seen[0].query).toMatchObject({ filter: 'open' });
    expect(await provider.listResources(context({ boardIds: ['board-2', 'nope'] }))).toEqual([
      { id: 'board-2', name: 'Ops' },
    ]);
    expect(await provider.listResources(context({ boardIds: [] }))).toEqual([]);
  });
});

describe('full pass', () => {
  it('reads the newest action first, lists open cards, and hands over its cursor', async () => {
    board.cards = [
      card('c1', 10),
      card('c2', 11, { closed: true }), // archived: never listed, swept by the engine
      card('c3', 12, { idList: 'list-old' }), // in an archived list
      card('c4', 200, { idList: 'list-done', dueComplete: true }),
    ];
    board.actions.push(action(100, 'updateCard', { card: { id: 'c1' } }));
    const pages = await collect(null, 'full');
    expect(pages).toHaveLength(1);
    const [page] = pages;
    expect(page.fullPassComplete).toBe(true);
    expect(page.deletions).toEqual([]);
    expect(page.cursor).toEqual({ since: actionId(100), at: at(100) });
    expect(page.upserts.map((i) => [i.externalId, i.status, i.externalVersion])).toEqual([
      ['c1', 'To Do', at(100)], // raised to the watermark
      ['c4', 'done', at(200)], // newer than it
    ]);
    expect(page.upserts[0]).toMatchObject({
      containerId: 'board-1',
      containerName: 'Product',
      assignees: ['ana'],
    });
    expect(seen[0]).toMatchObject({ path: '/1/boards/board-1/actions', query: { limit: '1' } });
    expect(seen.every((s) => s.auth === AUTH)).toBe(true);
  });

  it('splits large boards into pages; only the last completes the pass', async () => {
    board.cards = Array.from({ length: 1001 }, (_, i) => card(`c${i}`, 10));
    const pages = await collect(null, 'full');
    expect(pages.map((p) => p.upserts.length)).toEqual([500, 500, 1]);
    expect(pages.map((p) => Boolean(p.fullPassComplete))).toEqual([false, false, true]);
  });

  it('yields one empty, completing page for an empty board without actions', async () => {
    board.actions = [];
    expect(await collect(null, 'full')).toEqual([
      { upserts: [], deletions: [], cursor: { since: null, at: null }, fullPassComplete: true },
    ]);
  });
});

describe('incremental pass', () => {
  const start = () => ({ since: actionId(100), at: at(100) });

  beforeEach(() => {
    board.actions.push(action(100, 'updateCard', { card: { id: 'c0' } }));
  });

  it('turns actions into upserts and deletions and moves the cursor', async () => {
    board.cards = [
      card('c0', 50), // untouched since the cursor: not re-sent
      card('c1', 101, { name: 'Renamed' }),
      card('c3', 103, { closed: true }),
      card('c4', 104),
      card('c7', 107), // only a comment (ignored type), but its activity is news
    ];
    board.actions.push(
      action(101, 'updateCard', { card: { id: 'c1' }, old: { name: 'Card c1' } }),
      action(102, 'deleteCard', { card: { id: 'c2' } }),
      action(103, 'updateCard', { card: { id: 'c3', closed: true }, old: { closed: false } }),
      action(104, 'createCard', { card: { id: 'c4' } }),
      action(105, 'moveCardFromBoard', { card: { id: 'c5' }, boardTarget: { id: 'board-2' } }),
      action(106, 'moveCardFromBoard', { card: { id: 'c6' }, boardTarget: { id: 'board-x' } }),
      action(107, 'commentCard', { card: { id: 'c7' } }),
    );
    const [page, ...rest] = await collect(start(), 'incremental');
    expect(rest).toEqual([]);
    expect(page.fullPassComplete).toBeUndefined();
    expect(page.upserts.map((i) => [i.externalId, i.title, i.externalVersion])).toEqual([
      ['c1', 'Renamed', at(107)],
      ['c4', 'Card c4', at(107)],
      ['c7', 'Card c7', at(107)],
    ]);
    expect(page.deletions).toEqual([
      { kind: 'task', externalId: 'c2', externalVersion: at(102) },
      { kind: 'task', externalId: 'c3', externalVersion: at(107) },
      // c5 went to board-2, which this connection syncs: that board upserts it.
      { kind: 'task', externalId: 'c6', externalVersion: at(107) },
    ]);
    expect(page.cursor).toEqual({ since: actionId(107), at: at(107) });
    expect(seen[0].query).toMatchObject({ since: actionId(100), limit: '1000' });
    // One board list for both moves, not one per card.
    expect(seen.filter((s) => s.path === '/1/members/me/boards')).toHaveLength(1);
  });

  it('keeps the cursor when nothing happened', async () => {
    board.cards = [card('c0', 50)];
    const [page] = await collect(start(), 'incremental');
    expect(page).toEqual({ upserts: [], deletions: [], cursor: start() });
  });

  it('pages back through more than 1000 actions with before', async () => {
    for (let n = 1; n <= 1500; n++) {
      board.actions.push(action(1000 + n, 'commentCard', { card: { id: 'c0' } }));
    }
    const [page] = await collect(start(), 'incremental');
    expect(page.cursor).toEqual({ since: actionId(2500), at: at(2500) });
    const calls = seen.filter((s) => s.path.endsWith('/actions'));
    expect(calls).toHaveLength(2);
    expect(calls[1].query).toMatchObject({ since: actionId(100), before: actionId(1501) });
  });

  it('asks for a full resync when replaying would take more than 10 pages', async () => {
    for (let n = 1; n <= 10_000; n++) {
      board.actions.push(action(1000 + n, 'commentCard', { card: { id: 'c0' } }));
    }
    const error = await failure(() => collect(start(), 'incremental'));
    expect(error).toMatchObject({ code: 'CURSOR_INVALID', detail: 'too_many_actions' });
  });

  it('asks for a full resync after a list rename or with no usable cursor', async () => {
    board.actions.push(
      action(101, 'updateList', { list: { id: 'list-todo' }, old: { name: 'Todo' } }),
    );
    expect((await failure(() => collect(start(), 'incremental'))).code).toBe('CURSOR_INVALID');
    expect((await failure(() => collect(null, 'incremental'))).code).toBe('CURSOR_INVALID');
    expect((await failure(() => collect({ pageToken: 'x' }, 'incremental'))).code).toBe(
      'CURSOR_INVALID',
    );
  });
});

describe('rate limits and errors', () => {
  it('429 API_KEY_LIMIT_EXCEEDED: RATE_LIMITED about 10 s ahead, detail = the code', async () => {
    override = (s) =>
      s.path.endsWith('/cards/open')
        ? [429, { error: 'API_KEY_LIMIT_EXCEEDED', message: 'Rate limit exceeded' }]
        : undefined;
    const before = Date.now();
    const error = await failure(() => collect(null, 'full'));
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.detail).toBe('API_KEY_LIMIT_EXCEEDED');
    const wait = error.retryAt!.getTime() - before;
    expect(wait).toBeGreaterThanOrEqual(10_000);
    expect(wait).toBeLessThanOrEqual(12_000 + (Date.now() - before));
  });

  it('404 board: NOT_FOUND', async () => {
    override = (s) =>
      s.path.startsWith('/1/boards/') ? [404, 'The requested resource was not found.'] : undefined;
    expect((await failure(() => collect(null, 'full'))).code).toBe('NOT_FOUND');
  });
});

describe('webhook subscriptions', () => {
  const sub = (externalId: string): StoredWebhookSubscription => ({
    id: 'row-1',
    connectionId: 'conn-1',
    resourceId: BOARD.id,
    externalId,
    externalResourceId: null,
    secret: null,
    callbackUrl: 'https://pdeck.example/v1/webhooks/trello',
    expiresAt: null,
  });

  it('creates a webhook for the board with exactly the given callback URL', async () => {
    override = (s) => (s.path === '/1/webhooks' ? [200, { id: 'hook-1' }] : undefined);
    const created = await provider.webhooks!.subscribe!(
      context(),
      BOARD,
      'https://pdeck.example/v1/webhooks/trello',
    );
    expect(created).toEqual({ externalId: 'hook-1' });
    expect(seen[0]).toMatchObject({ method: 'POST', path: '/1/webhooks', auth: AUTH });
    expect(JSON.parse(seen[0].body)).toEqual({
      callbackURL: 'https://pdeck.example/v1/webhooks/trello',
      idModel: 'board-1',
      description: 'PDeck: Product',
    });
  });

  it('adopts the existing webhook when Trello refuses a duplicate', async () => {
    const url = 'https://pdeck.example/v1/webhooks/trello';
    override = (s) => {
      if (s.path === '/1/webhooks')
        return [400, 'A webhook with that callback, model, and token already exists'];
      if (s.path === `/1/tokens/${TOKEN}/webhooks`)
        return [
          200,
          [
            { id: 'other', idModel: 'board-2', callbackURL: url },
            { id: 'hook-0', idModel: 'board-1', callbackURL: url },
          ],
        ];
      return undefined;
    };
    expect(await provider.webhooks!.subscribe!(context(), BOARD, url)).toEqual({
      externalId: 'hook-0',
    });
  });

  it('deletes the webhook; one already gone is fine', async () => {
    override = (s) => (s.path === '/1/webhooks/hook-1' ? [200, ''] : [404, 'not found']);
    await provider.webhooks!.unsubscribe!(context(), sub('hook-1'));
    await provider.webhooks!.unsubscribe!(context(), sub('hook-gone'));
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      'DELETE /1/webhooks/hook-1',
      'DELETE /1/webhooks/hook-gone',
    ]);
  });
});
