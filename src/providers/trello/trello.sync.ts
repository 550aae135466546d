import type {
  ItemDeletion,
  NormalizedItem,
  ProviderContext,
  SyncCursor,
  SyncPage,
  SyncResource,
} from '@pdeck/integration-sdk';
import { classifyAction, lastCardActions } from './trello.actions.js';
import type { ApiKeySource } from './trello.http.js';
import { isoVersion, isVisible, mapCard, stringOr } from './trello.mapper.js';
import { actionsSince, cursorInvalid, newestAction, readBoard } from './trello.reads.js';
import type { TrelloAction, TrelloCard } from './trello.types.js';

/** Cards come in one response per board; pages keep each commit's transaction short. */
export const CARD_PAGE_SIZE = 500;

/**
 * Stored per board. `since`: the newest board action already applied (Trello's `since` takes an
 * action id). `at`: that action's date, the watermark versions are raised to (trello.mapper.ts)
 * and the line after which a card's dateLastActivity counts as news. Both null for a board that
 * had no action at all when it was first read.
 */
export interface TrelloCursor {
  since: string | null;
  at: string | null;
}

export interface SyncDeps {
  apiKey: ApiKeySource;
  /** Ids of the boards this connection syncs (a card moved to one of them is not deleted). */
  syncedBoards(ctx: ProviderContext): Promise<ReadonlySet<string>>;
}

/**
 * Full pass: the newest action first, then the board's lists, members and open cards. Reading
 * the action first means whatever happens while the cards are listed is newer than the cursor,
 * so the next incremental run sees it: nothing falls between. Archived cards are not listed
 * (`cards/open`), so the engine's sweep after the last page tombstones them.
 */
export async function* fullPass(
  ctx: ProviderContext,
  deps: SyncDeps,
  board: SyncResource,
): AsyncIterable<SyncPage> {
  const newest = await newestAction(ctx, deps.apiKey, board.id);
  const watermark = isoVersion(newest?.date);
  const { snapshot, cards } = await readBoard(ctx, deps.apiKey, board);
  const items = cards
    .filter((card) => isVisible(card, snapshot))
    .map((card) => mapCard(card, snapshot, watermark))
    .filter((item): item is NormalizedItem => item !== null);
  const cursor: TrelloCursor = { since: stringOr(newest?.id), at: watermark };
  for (let start = 0; start < items.length || start === 0; start += CARD_PAGE_SIZE) {
    const last = start + CARD_PAGE_SIZE >= items.length;
    // A crash mid-pass restarts the pass (full mode ignores the stored cursor): re-listing a
    // board is one call, and the engine's generation keeps the sweep right across attempts.
    yield {
      upserts: items.slice(start, start + CARD_PAGE_SIZE),
      deletions: [],
      cursor: { ...cursor },
      fullPassComplete: last,
    };
    if (last) return;
  }
}

/**
 * Incremental: replays the board's actions since the cursor, then re-lists the board once. Cards
 * touched by an action, or whose dateLastActivity passed the watermark (changes by action types
 * that never appear in the history,
 * https://developer.atlassian.com/cloud/trello/guides/rest-api/action-types/), are upserted;
 * touched cards no longer on the board become deletions. Board-wide changes (classifyAction
 * 'board') need every card re-read and a sweep, which only a full pass does: CURSOR_INVALID asks
 * the engine for one.
 */
export async function* incrementalPass(
  ctx: ProviderContext,
  deps: SyncDeps,
  board: SyncResource,
  stored: SyncCursor | null,
): AsyncIterable<SyncPage> {
  const cursor = parseCursor(stored);
  const actions = await actionsSince(ctx, deps.apiKey, board.id, cursor.since);
  if (actions.some((a) => classifyAction(a) === 'board')) {
    throw cursorInvalid('board_changed', 'lists, labels or the board changed: full resync');
  }
  const newest = actions.at(-1);
  const watermark = laterOf(cursor.at, isoVersion(newest?.date));
  const touched = lastCardActions(actions);
  const { snapshot, cards } = await readBoard(ctx, deps.apiKey, board);
  const onBoard = new Map<string, TrelloCard>();
  for (const card of cards) {
    if (typeof card.id === 'string' && isVisible(card, snapshot)) onBoard.set(card.id, card);
  }
  const upserts: NormalizedItem[] = [];
  for (const [id, card] of onBoard) {
    const activity = isoVersion(card.dateLastActivity);
    const news = cursor.at === null || (activity !== null && activity > cursor.at);
    if (!touched.has(id) && !news) continue;
    const item = mapCard(card, snapshot, watermark);
    if (item) upserts.push(item);
  }
  const deletions: ItemDeletion[] = [];
  // Read at most once per pass, and only when a card left for another board (it costs a call
  // to /1/members, the tightly limited bucket).
  let synced: Promise<ReadonlySet<string>> | undefined;
  const syncedBoards = () => (synced ??= deps.syncedBoards(ctx));
  for (const [id, action] of touched) {
    if (onBoard.has(id)) continue;
    const deletion = await goneFromBoard(syncedBoards, id, action, watermark);
    if (deletion) deletions.push(deletion);
  }
  const next: TrelloCursor = { since: stringOr(newest?.id) ?? cursor.since, at: watermark };
  yield { upserts, deletions, cursor: { ...next } };
}

/**
 * A touched card missing from the open cards: deleted, archived, or moved to another board.
 * Moved to a board this connection also syncs, it is left alone: that board's sync upserts it
 * with its new container. A deletion here could carry a version equal to or newer than that
 * upsert's (both are "the time of the move") and would then tombstone a live card.
 */
async function goneFromBoard(
  syncedBoards: () => Promise<ReadonlySet<string>>,
  cardId: string,
  action: TrelloAction,
  watermark: string | null,
): Promise<ItemDeletion | null> {
  if (action.type === 'moveCardFromBoard') {
    // `boardTarget` is UNCONFIRMED (not in Trello's docs); without it the card is still gone
    // from this board, so it is deleted, and re-appears with its next change elsewhere.
    const target = stringOr(action.data?.boardTarget?.id);
    if (target && (await syncedBoards()).has(target)) return null;
  }
  const version = action.type === 'deleteCard' ? isoVersion(action.date) : watermark;
  return { kind: 'task', externalId: cardId, externalVersion: version ?? undefined };
}

function parseCursor(cursor: SyncCursor | null): TrelloCursor {
  const since = cursor?.since;
  const at = cursor?.at;
  const ok = (v: unknown) => v === null || (typeof v === 'string' && v !== '');
  // Never list without a cursor in incremental mode: that would be a full pass without a sweep.
  if (!cursor || !ok(since) || !ok(at)) throw cursorInvalid('no_cursor', 'no usable cursor');
  return { since: since as string | null, at: at === null ? null : isoVersion(at) };
}

function laterOf(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}
