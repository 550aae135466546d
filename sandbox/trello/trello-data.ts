import { SandboxNotFoundError } from '@pdeck/integration-sdk/sandbox';
import { hex, IdFactory, iso, shortLink } from './ids.js';
import type {
  ActionRec,
  BoardRec,
  CardInput,
  CardPatch,
  CardRec,
  ChangeOptions,
  LabelRec,
  ListRec,
  MemberRec,
} from './trello-types.js';

export type * from './trello-types.js';

/**
 * Members, boards, lists, cards and each board's action history. Every change goes through here
 * and appends the action Trello would record, then hands it to `onAction` (webhook delivery).
 */
export class TrelloData {
  readonly members = new Map<string, MemberRec>();
  readonly boards = new Map<string, BoardRec>();
  readonly lists = new Map<string, ListRec>();
  readonly cards = new Map<string, CardRec>();
  /** Per board, oldest first (ids and dates both increase along the array). */
  readonly actions = new Map<string, ActionRec[]>();
  onAction: (board: BoardRec, action: ActionRec) => void = () => undefined;

  constructor(readonly ids: IdFactory) {}

  addMember(username: string, fullName: string): MemberRec {
    const initials = fullName
      .split(/\s+/)
      .map((w) => w[0] ?? '')
      .join('')
      .toUpperCase();
    const member = { id: this.ids.objectId(), username, fullName, initials };
    this.members.set(member.id, member);
    return member;
  }

  addBoard(
    name: string,
    memberIds: string[],
    opts: { closed?: boolean; desc?: string } = {},
  ): BoardRec {
    const board: BoardRec = {
      id: this.ids.objectId(),
      name,
      desc: opts.desc ?? '',
      closed: opts.closed ?? false,
      shortLink: shortLink(),
      idMembers: [...memberIds],
      labels: [],
    };
    this.boards.set(board.id, board);
    this.actions.set(board.id, []);
    return board;
  }

  addList(idBoard: string, name: string, closed = false): ListRec {
    const pos = 16384 * (this.listsOf(idBoard).length + 1);
    const list = { id: this.ids.objectId(), idBoard, name, closed, pos };
    this.lists.set(list.id, list);
    return list;
  }

  addLabel(idBoard: string, name: string, color: string | null): LabelRec {
    const label = { id: this.ids.objectId(), idBoard, name, color };
    this.board(idBoard).labels.push(label);
    return label;
  }

  member(idOrUsername: string): MemberRec {
    const found =
      this.members.get(idOrUsername) ??
      [...this.members.values()].find((m) => m.username === idOrUsername);
    if (!found) throw new SandboxNotFoundError(`no member ${idOrUsername}`);
    return found;
  }
  board(id: string): BoardRec {
    const found = this.boards.get(id);
    if (!found) throw new SandboxNotFoundError(`no board ${id}`);
    return found;
  }
  card(id: string): CardRec {
    const found = this.cards.get(id);
    if (!found) throw new SandboxNotFoundError(`no card ${id}`);
    return found;
  }
  list(id: string): ListRec {
    const found = this.lists.get(id);
    if (!found) throw new SandboxNotFoundError(`no list ${id}`);
    return found;
  }
  listsOf(idBoard: string): ListRec[] {
    return [...this.lists.values()].filter((l) => l.idBoard === idBoard);
  }
  cardsOf(idBoard: string): CardRec[] {
    return [...this.cards.values()].filter((c) => c.idBoard === idBoard);
  }

  createCard(idBoard: string, input: CardInput, opts: ChangeOptions = {}): CardRec {
    const board = this.board(idBoard);
    const list = this.list(input.idList ?? this.listsOf(idBoard).find((l) => !l.closed)!.id);
    const at = this.ids.tick(opts.atMs);
    const cards = this.cardsOf(idBoard);
    const card: CardRec = {
      id: this.ids.objectId(at),
      idShort: cards.length + 1,
      shortLink: shortLink(),
      name: input.name,
      desc: input.desc ?? '',
      idBoard,
      idList: list.id,
      closed: false,
      due: isoOrNull(input.due),
      dueComplete: input.dueComplete ?? false,
      start: isoOrNull(input.start),
      dateLastActivity: iso(at),
      idMembers: [...(input.idMembers ?? [])],
      idLabels: [...(input.idLabels ?? [])],
      pos: 16384 * (cards.filter((c) => c.idList === list.id).length + 1),
    };
    this.cards.set(card.id, card);
    this.record(board, 'createCard', at, opts.by, {
      card: cardRef(card),
      list: { id: list.id, name: list.name },
    });
    return card;
  }

  /** One `updateCard` action per changed field, as Trello records edits (`old` holds the prior value). */
  updateCard(cardId: string, patch: CardPatch, opts: ChangeOptions = {}): CardRec {
    const card = this.card(cardId);
    const board = this.board(card.idBoard);
    for (const key of Object.keys(patch) as Array<keyof CardPatch>) {
      if (patch[key] === undefined) continue;
      const value = key === 'due' || key === 'start' ? isoOrNull(patch[key]) : patch[key];
      if (value === card[key]) continue;
      const old = card[key];
      (card as unknown as Record<string, unknown>)[key] = value;
      const at = this.ids.tick(opts.atMs);
      card.dateLastActivity = iso(at);
      const data: Record<string, unknown> = {
        card: { ...cardRef(card), [key]: value },
        old: { [key]: old },
      };
      if (key === 'idList') {
        data.listBefore = listRef(this.list(old as string));
        data.listAfter = listRef(this.list(value as string));
      } else {
        data.list = listRef(this.list(card.idList));
      }
      this.record(board, 'updateCard', at, opts.by, data);
    }
    return card;
  }

  /** The card disappears from every list; only the `deleteCard` action remembers it. */
  deleteCard(cardId: string, opts: ChangeOptions = {}): ActionRec {
    const card = this.card(cardId);
    this.cards.delete(cardId);
    const at = this.ids.tick(opts.atMs);
    return this.record(this.board(card.idBoard), 'deleteCard', at, opts.by, {
      card: { id: card.id, idShort: card.idShort },
      list: listRef(this.list(card.idList)),
    });
  }

  renameList(listId: string, name: string, opts: ChangeOptions = {}): ListRec {
    const list = this.list(listId);
    const old = list.name;
    list.name = name;
    const at = this.ids.tick(opts.atMs);
    this.record(this.board(list.idBoard), 'updateList', at, opts.by, {
      list: { id: list.id, name },
      old: { name: old },
    });
    return list;
  }

  private record(
    board: BoardRec,
    type: string,
    atMs: number,
    by: string | undefined,
    data: Record<string, unknown>,
  ): ActionRec {
    const creator = this.member(by ?? board.idMembers[0]);
    const action: ActionRec = {
      id: this.ids.objectId(atMs),
      idMemberCreator: creator.id,
      type,
      date: iso(atMs),
      data: { ...data, board: { id: board.id, name: board.name, shortLink: board.shortLink } },
      memberCreator: { ...creator },
    };
    this.actions.get(board.id)!.push(action);
    this.onAction(board, action);
    return action;
  }
}

function cardRef(card: CardRec): Record<string, unknown> {
  return { id: card.id, name: card.name, idShort: card.idShort, shortLink: card.shortLink };
}
function listRef(list: ListRec): { id: string; name: string } {
  return { id: list.id, name: list.name };
}

export const newSecret = (): string => hex(32);

/** Trello stores dates as ISO UTC with milliseconds, whatever form the input took. */
function isoOrNull(value: string | null | undefined): string | null {
  return value ? new Date(value).toISOString() : null;
}
