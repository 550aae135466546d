import {
  PAGE_MAX_RESPONSE_BYTES,
  type Page,
  pages,
  ProviderError,
  type ProviderContext,
  type SyncResource,
  providerFailure,
} from '@pdeck/integration-sdk';
import { sortActions } from './trello.actions.js';
import { TRELLO_ID } from './trello.catalog.js';
import { callTrello, segment, type ApiKeySource } from './trello.http.js';
import type { BoardSnapshot } from './trello.mapper.js';
import type { TrelloAction, TrelloCard, TrelloList, TrelloMember } from './trello.types.js';

/** The most /boards/{id}/actions returns per call (Trello's REST API reference, `limit`). */
export const ACTIONS_LIMIT = 1000;
/** Past this many actions since the cursor, re-reading the board is cheaper than replaying. */
export const MAX_ACTION_PAGES = 10;

export interface BoardRead {
  snapshot: BoardSnapshot;
  cards: TrelloCard[];
}

/** The newest action of the board (any type): the position a full pass hands over from. */
export async function newestAction(
  ctx: ProviderContext,
  apiKey: ApiKeySource,
  boardId: string,
): Promise<TrelloAction | undefined> {
  const actions = await callTrello<TrelloAction[]>(ctx, apiKey, {
    operation: 'boards.actions',
    path: `/boards/${segment(boardId)}/actions`,
    query: { limit: 1 },
  });
  return sortActions(arrayOf(actions)).at(-1);
}

/**
 * Every action since `since`, oldest first. Trello answers newest first, at most ACTIONS_LIMIT
 * a call, so older ones are paged with `before`
 * (https://developer.atlassian.com/cloud/trello/guides/rest-api/nested-resources/; `actions_before`
 * on the board itself returns newer actions too, https://jira.atlassian.com/browse/TRELLO-229).
 * Unfiltered: filtering by type client-side cannot fail on a type name Trello does not accept, and
 * any action moves the watermark.
 */
export async function actionsSince(
  ctx: ProviderContext,
  apiKey: ApiKeySource,
  boardId: string,
  since: string | null,
): Promise<TrelloAction[]> {
  const byId = new Map<string, TrelloAction>();
  let fetched = 0;
  const olderThan = async (before?: string): Promise<Page<TrelloAction>> => {
    if (fetched++ === MAX_ACTION_PAGES) {
      throw cursorInvalid('too_many_actions', 'too many actions since the cursor: full resync');
    }
    const batch = arrayOf(
      await callTrello<TrelloAction[]>(ctx, apiKey, {
        operation: 'boards.actions',
        path: `/boards/${segment(boardId)}/actions`,
        query: { since: since ?? undefined, before, limit: ACTIONS_LIMIT },
        maxResponseBytes: PAGE_MAX_RESPONSE_BYTES,
      }),
    );
    const next = batch.length < ACTIONS_LIMIT ? undefined : sortActions(batch)[0]?.id || undefined;
    // A full page ending at `before` itself (the parameter ignored) would end `pages` with older
    // actions unread: it is asked for again until the page cap asks for a full resync.
    if (next !== undefined && next === before) return olderThan(before);
    return { items: batch, next };
  };
  for await (const batch of pages(olderThan)) {
    for (const a of batch) if (typeof a?.id === 'string' && a.id !== since) byId.set(a.id, a);
  }
  return sortActions([...byId.values()]);
}

/** Lists (all, so cards of archived lists are recognised), members and open cards. */
export async function readBoard(
  ctx: ProviderContext,
  apiKey: ApiKeySource,
  board: SyncResource,
): Promise<BoardRead> {
  const path = `/boards/${segment(board.id)}`;
  const [lists, members, cards] = await Promise.all([
    callTrello<TrelloList[]>(ctx, apiKey, {
      operation: 'boards.lists',
      path: `${path}/lists/all`,
    }),
    // UNCONFIRMED endpoint (not in Trello's guides; the trello.js client has it as
    // getBoardMembers). Only usernames for assignees come from it.
    callTrello<TrelloMember[]>(ctx, apiKey, {
      operation: 'boards.members',
      path: `${path}/members`,
      query: { fields: 'id,username,fullName' },
    }),
    // No `fields`: Trello's default is every field, and naming `start` (UNCONFIRMED) could make
    // Trello reject the whole call if it did not exist.
    callTrello<TrelloCard[]>(ctx, apiKey, {
      operation: 'boards.cards',
      path: `${path}/cards/open`,
      // Every open card of the board in one answer, descriptions included.
      maxResponseBytes: PAGE_MAX_RESPONSE_BYTES,
    }),
  ]);
  return {
    snapshot: {
      id: board.id,
      name: board.name || null,
      lists: byId(arrayOf(lists)),
      members: byId(arrayOf(members)),
    },
    cards: arrayOf(cards),
  };
}

export function cursorInvalid(detail: string, message: string): ProviderError {
  return providerFailure(TRELLO_ID, 'CURSOR_INVALID', message, detail);
}

function byId<T extends { id?: string }>(values: T[]): Map<string, T> {
  const map = new Map<string, T>();
  for (const v of values) if (typeof v?.id === 'string') map.set(v.id, v);
  return map;
}

/**
 * Collections must be arrays: reading anything else as "no cards" would let the sweep tombstone
 * a whole board on one odd answer (a proxy page, an API change).
 */
export function arrayOf<T>(value: T[] | undefined): T[] {
  if (Array.isArray(value)) return value;
  throw providerFailure(TRELLO_ID, 'UNKNOWN', 'expected a JSON array', 'unexpected_shape');
}
