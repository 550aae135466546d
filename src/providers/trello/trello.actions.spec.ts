import { describe, expect, it } from 'vitest';
import { classifyAction, lastCardActions, sortActions } from './trello.actions.js';
import type { TrelloAction } from './trello.types.js';

const card = (type: string, id = 'c1', extra: TrelloAction['data'] = {}): TrelloAction => ({
  type,
  data: { card: { id }, ...extra },
});

describe('classifyAction', () => {
  it('card changes that alter a mapped field', () => {
    for (const type of [
      'createCard',
      'updateCard',
      'deleteCard',
      'moveCardToBoard',
      'addMemberToCard',
    ]) {
      expect(classifyAction(card(type))).toBe('card');
    }
    expect(classifyAction({ type: 'updateCard', data: {} })).toBe('ignored'); // no card id
  });

  it('board-wide changes: list renamed or archived, board renamed, labels, lists moved', () => {
    const board = [
      { type: 'updateList', data: { old: { name: 'Todo' } } },
      { type: 'updateList', data: { old: { closed: false } } },
      { type: 'updateBoard', data: { old: { name: 'Old name' } } },
      { type: 'updateLabel', data: {} },
      { type: 'deleteLabel', data: {} },
      { type: 'moveListFromBoard', data: {} },
    ];
    for (const action of board) expect(classifyAction(action)).toBe('board');
  });

  it('ignores what changes nothing we map', () => {
    const ignored: (TrelloAction | undefined)[] = [
      card('commentCard'),
      card('addChecklistToCard'),
      { type: 'updateList', data: { old: { pos: 3 } } },
      { type: 'updateBoard', data: { old: { prefs: {} } } },
      { type: 'createList', data: {} },
      {},
      undefined,
    ];
    for (const action of ignored) expect(classifyAction(action)).toBe('ignored');
  });
});

describe('sortActions / lastCardActions', () => {
  it('orders by date then id and keeps the last card action per card', () => {
    const actions: TrelloAction[] = [
      {
        id: 'b',
        type: 'deleteCard',
        date: '2026-03-04T09:00:02.000Z',
        data: { card: { id: 'c1' } },
      },
      {
        id: 'a',
        type: 'updateCard',
        date: '2026-03-04T09:00:02.000Z',
        data: { card: { id: 'c1' } },
      },
      {
        id: 'z',
        type: 'createCard',
        date: '2026-03-04T09:00:01.000Z',
        data: { card: { id: 'c1' } },
      },
      {
        id: 'y',
        type: 'commentCard',
        date: '2026-03-04T09:00:03.000Z',
        data: { card: { id: 'c1' } },
      },
    ];
    const sorted = sortActions(actions);
    expect(sorted.map((a) => a.id)).toEqual(['z', 'a', 'b', 'y']);
    expect(lastCardActions(sorted).get('c1')?.type).toBe('deleteCard');
  });
});
