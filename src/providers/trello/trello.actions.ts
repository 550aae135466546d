import { isoVersion } from './trello.mapper.js';
import type { TrelloAction } from './trello.types.js';

/**
 * Action types that change a card as we map it (title, body, list, dates, members, labels,
 * archived flag, board), including its creation, deletion and moves between boards. Other card
 * actions (comments, checklists, attachments, custom fields, ...) change nothing we store; they
 * are ignored (webhooks: an empty parse; syncs: skipped). Names per
 * https://developer.atlassian.com/cloud/trello/guides/rest-api/action-types/; the label ones may be
 * "excluded" types that never show up in the action history: the sync's dateLastActivity check is
 * the fallback for those (trello.sync.ts).
 */
export const CARD_CHANGE_TYPES: ReadonlySet<string> = new Set([
  'createCard',
  'copyCard',
  'convertToCardFromCheckItem',
  'emailCard',
  'updateCard',
  'deleteCard',
  'moveCardToBoard',
  'moveCardFromBoard',
  'addMemberToCard',
  'removeMemberFromCard',
  'addLabelToCard',
  'removeLabelFromCard',
]);

export type ActionClass = 'card' | 'board' | 'ignored';

/**
 * `board`: a change that alters many cards' items at once without one card action each: a list
 * renamed (the status of its cards), archived or restored (its cards leave or return), moved to
 * another board (its cards move along), the board renamed (every item's container name), a label
 * renamed or deleted (label texts). The board is then synced in full, which re-reads every card
 * and sweeps what left; reordering lists (`old.pos`) changes nothing we map.
 */
export function classifyAction(action: TrelloAction | undefined): ActionClass {
  const type = action?.type;
  if (typeof type !== 'string') return 'ignored';
  if (CARD_CHANGE_TYPES.has(type)) return cardIdOf(action!) ? 'card' : 'ignored';
  const old = action?.data?.old ?? {};
  switch (type) {
    case 'updateList':
      return 'name' in old || 'closed' in old ? 'board' : 'ignored';
    case 'updateBoard':
      return 'name' in old ? 'board' : 'ignored';
    case 'updateLabel':
    case 'deleteLabel':
    case 'moveListToBoard':
    case 'moveListFromBoard':
      return 'board';
    default:
      return 'ignored';
  }
}

export function cardIdOf(action: TrelloAction): string | null {
  const id = action.data?.card?.id;
  return typeof id === 'string' && id !== '' ? id : null;
}

/**
 * Oldest first, by date then id. Trello lists newest first; ids alone are not a safe order
 * (their leading timestamp has one-second resolution), dates alone may tie.
 */
export function sortActions(actions: readonly TrelloAction[]): TrelloAction[] {
  const key = (a: TrelloAction) => `${isoVersion(a.date) ?? ''}\u0000${a.id ?? ''}`;
  return [...actions].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The last card-changing action of each card, in time order. */
export function lastCardActions(sorted: readonly TrelloAction[]): Map<string, TrelloAction> {
  const last = new Map<string, TrelloAction>();
  for (const action of sorted) {
    if (classifyAction(action) !== 'card') continue;
    last.set(cardIdOf(action)!, action);
  }
  return last;
}
