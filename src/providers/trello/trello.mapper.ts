import { type NormalizedItem, normalizedItem } from '@pdeck/integration-sdk';
import type { TrelloCard, TrelloLabel, TrelloList, TrelloMember } from './trello.types.js';

/** The board a card was listed from, with what its cards refer to by id. */
export interface BoardSnapshot {
  id: string;
  name: string | null;
  lists: ReadonlyMap<string, TrelloList>;
  members: ReadonlyMap<string, TrelloMember>;
}

/** The lowest version: for a card with no readable date on a board with no actions. */
export const MIN_VERSION = '1970-01-01T00:00:00.000Z';

/** Card fields kept in `raw` (the columns hold the rest): ids and flags PDeck may link or show. */
const RAW_FIELDS = [
  'id',
  'idShort',
  'shortLink',
  'url',
  'idBoard',
  'idList',
  'idMembers',
  'idLabels',
  'pos',
  'closed',
  'due',
  'dueComplete',
  'start',
  'dateLastActivity',
] as const satisfies readonly (keyof TrelloCard)[];

/**
 * An ISO date as a fixed-width version (`2026-03-04T09:41:17.512Z`, 24 characters, so byte
 * order is time order: item-page-input.ts). Null for anything that is not a date.
 */
export function isoVersion(value: unknown): string | null {
  if (typeof value !== 'string' || value === '') return null;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) return null;
  const iso = new Date(ms).toISOString();
  return iso.length === MIN_VERSION.length ? iso : null;
}

/**
 * The version of a card state: the later of its `dateLastActivity` and the board watermark (the
 * date of the newest board action read before the card was listed; both are Trello's clock).
 *
 * Why the watermark: an item also shows its list's name (status), its board's name and label
 * names, and renaming those does not touch the card's dateLastActivity; nor is it confirmed that
 * every card edit does (UNCONFIRMED: not stated by Trello's documentation). A state listed after
 * the watermark reflects every change up to it, so versioning it at least that high is truthful,
 * and it makes the state listed after a rename win over the one stored before it.
 *
 * Equal versions: the upsert keeps the stored row on a tie and a deletion applies on a tie, so
 * two different states can only collide when two actions share a millisecond; then a deletion
 * wins, which is the state a tie usually means (card listed, then deleted in the same ms).
 */
export function cardVersion(card: TrelloCard, watermark: string | null): string {
  const activity = isoVersion(card.dateLastActivity);
  const candidates = [activity, watermark].filter((v): v is string => v !== null);
  return candidates.length ? candidates.reduce((a, b) => (a > b ? a : b)) : MIN_VERSION;
}

/**
 * Whether the card is on the board for PDeck. Archived cards (`closed`) and cards of archived
 * lists are not: they become deletions, so the rule is one everywhere: Trello hides them from
 * the board, PDeck drops them, and un-archiving brings them back with a newer version.
 */
export function isVisible(card: TrelloCard, board: BoardSnapshot): boolean {
  if (card.closed === true) return false;
  const list = card.idList ? board.lists.get(card.idList) : undefined;
  return list?.closed !== true;
}

/**
 * Status rule: `done` when the card's due date is marked complete (`dueComplete`, Trello's one
 * done flag); otherwise the name of the card's list exactly as the board shows it ("To Do",
 * "Doing"), since the list is how Trello users express status; null when the list is unknown.
 */
export function cardStatus(card: TrelloCard, board: BoardSnapshot): string | null {
  if (card.dueComplete === true) return 'done';
  const name = card.idList ? board.lists.get(card.idList)?.name?.trim() : undefined;
  return name ? name : null;
}

/** A card as a task item; null when it has no id (the API always sends one). */
export function mapCard(
  card: TrelloCard,
  board: BoardSnapshot,
  watermark: string | null,
): NormalizedItem | null {
  if (typeof card.id !== 'string' || card.id === '') return null;
  const list = card.idList ? board.lists.get(card.idList) : undefined;
  return normalizedItem({
    kind: 'task',
    // Card ids are global object ids (Trello's REST API reference, as the trello.js client
    // implements it): unique in the connection without the board.
    externalId: card.id,
    externalVersion: cardVersion(card, watermark),
    containerId: board.id,
    containerName: board.name,
    title: stringOr(card.name),
    body: stringOr(card.desc),
    status: cardStatus(card, board),
    startsAt: dateOr(card.start),
    dueAt: dateOr(card.due),
    url: stringOr(card.shortUrl) ?? stringOr(card.url),
    assignees: assigneesOf(card, board),
    labels: labelsOf(card.labels),
    externalUpdatedAt: dateOr(card.dateLastActivity),
    raw: { ...pick(card), list: list ? { id: list.id, name: list.name } : null },
  });
}

/** Usernames (unique, what @mentions use); the member id when the board did not list them. */
function assigneesOf(card: TrelloCard, board: BoardSnapshot): string[] {
  const ids = Array.isArray(card.idMembers) ? card.idMembers : [];
  return ids
    .filter((id): id is string => typeof id === 'string' && id !== '')
    .map((id) => stringOr(board.members.get(id)?.username) ?? id);
}

/** Label names; an unnamed label is known by its colour in Trello's UI, so that is its text. */
function labelsOf(labels: TrelloLabel[] | undefined): string[] {
  const texts = (Array.isArray(labels) ? labels : [])
    .map((l) => stringOr(l?.name?.trim()) ?? stringOr(l?.color))
    .filter((t): t is string => t !== null);
  return [...new Set(texts)];
}

function pick(card: TrelloCard): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const key of RAW_FIELDS) if (card[key] !== undefined) raw[key] = card[key];
  return raw;
}

export function stringOr(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function dateOr(value: unknown): Date | null {
  const iso = isoVersion(value);
  return iso ? new Date(iso) : null;
}
