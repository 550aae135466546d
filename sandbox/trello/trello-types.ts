/** Records the fake keeps, and the inputs of its data-changing methods. */

export interface MemberRec {
  id: string;
  username: string;
  fullName: string;
  initials: string;
}
export interface LabelRec {
  id: string;
  idBoard: string;
  name: string;
  color: string | null;
}
export interface BoardRec {
  id: string;
  name: string;
  desc: string;
  closed: boolean;
  shortLink: string;
  idMembers: string[];
  labels: LabelRec[];
}
export interface ListRec {
  id: string;
  idBoard: string;
  name: string;
  closed: boolean;
  pos: number;
}
export interface CardRec {
  id: string;
  idShort: number;
  shortLink: string;
  name: string;
  desc: string;
  idBoard: string;
  idList: string;
  closed: boolean;
  due: string | null;
  dueComplete: boolean;
  start: string | null;
  dateLastActivity: string;
  idMembers: string[];
  idLabels: string[];
  pos: number;
}
export interface ActionRec {
  id: string;
  idMemberCreator: string;
  type: string;
  date: string;
  data: Record<string, unknown>;
  memberCreator: { id: string; username: string; fullName: string; initials: string };
}

/** What createCard accepts; `idList` defaults to the board's first open list. */
export interface CardInput {
  name: string;
  desc?: string;
  idList?: string;
  due?: string | null;
  dueComplete?: boolean;
  start?: string | null;
  idMembers?: string[];
  idLabels?: string[];
}
/** Fields updateCard changes; each changed field becomes its own `updateCard` action. */
export type CardPatch = Partial<
  Pick<CardRec, 'name' | 'desc' | 'due' | 'dueComplete' | 'start' | 'idList' | 'closed'>
>;
/** Who made a change (username or member id; default: the board's first member) and when. */
export interface ChangeOptions {
  by?: string;
  atMs?: number;
}

/** An app in Trello's Power-Up admin: the public API key doubles as the OAuth consumer key. */
export interface TrelloApp {
  key: string;
  secret: string;
  name?: string;
}
export interface TokenRec {
  token: string;
  secret: string;
  key: string;
  idMember: string;
  scope: string[];
  expiration: string;
  expiresAt: number | null;
  createdAt: string;
  revoked: boolean;
}
export type AutoDecision = { decision: 'allow' | 'deny'; account?: string };
