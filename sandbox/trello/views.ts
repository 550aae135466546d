import type { BoardRec, CardRec, ListRec, MemberRec, TrelloData } from './trello-data.js';

/**
 * JSON as Trello returns it (field names as in Trello's REST API). `fields=a,b` narrows an
 * object to those fields plus `id`, as Trello does; `fields=all` or no parameter returns every
 * field.
 */
export function pick<T extends object>(value: T, fields: string | null): Partial<T> {
  if (!fields || fields === 'all') return value;
  const wanted = new Set(['id', ...fields.split(',').map((f) => f.trim())]);
  return Object.fromEntries(Object.entries(value).filter(([k]) => wanted.has(k))) as Partial<T>;
}

export function memberJson(m: MemberRec, data: TrelloData): Record<string, unknown> {
  return {
    id: m.id,
    username: m.username,
    fullName: m.fullName,
    initials: m.initials,
    avatarUrl: null,
    url: `https://trello.com/${m.username}`,
    idBoards: [...data.boards.values()].filter((b) => b.idMembers.includes(m.id)).map((b) => b.id),
  };
}

export function boardJson(b: BoardRec): Record<string, unknown> {
  return {
    id: b.id,
    name: b.name,
    desc: b.desc,
    closed: b.closed,
    idOrganization: null,
    pinned: false,
    url: `https://trello.com/b/${b.shortLink}/${slug(b.name)}`,
    shortUrl: `https://trello.com/b/${b.shortLink}`,
    shortLink: b.shortLink,
  };
}

export function listJson(l: ListRec): Record<string, unknown> {
  return {
    id: l.id,
    name: l.name,
    closed: l.closed,
    idBoard: l.idBoard,
    pos: l.pos,
    subscribed: false,
  };
}

export function cardJson(c: CardRec, board: BoardRec): Record<string, unknown> {
  return {
    id: c.id,
    badges: {
      due: c.due,
      dueComplete: c.dueComplete,
      start: c.start,
      description: c.desc !== '',
      comments: 0,
      checkItems: 0,
      checkItemsChecked: 0,
    },
    closed: c.closed,
    dateLastActivity: c.dateLastActivity,
    desc: c.desc,
    dueReminder: null,
    idBoard: c.idBoard,
    idList: c.idList,
    idShort: c.idShort,
    idLabels: [...c.idLabels],
    idMembers: [...c.idMembers],
    name: c.name,
    pos: c.pos,
    shortLink: c.shortLink,
    dueComplete: c.dueComplete,
    due: c.due,
    start: c.start,
    labels: board.labels
      .filter((l) => c.idLabels.includes(l.id))
      .map((l) => ({ id: l.id, idBoard: l.idBoard, name: l.name, color: l.color })),
    shortUrl: `https://trello.com/c/${c.shortLink}`,
    url: `https://trello.com/c/${c.shortLink}/${c.idShort}-${slug(c.name)}`,
  };
}

function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'card'
  );
}
