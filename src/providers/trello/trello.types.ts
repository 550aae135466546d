/**
 * Shapes of the Trello JSON we read, field names per Trello's REST API reference as the trello.js
 * client implements it. Everything is optional: the mappers check what they use instead of
 * trusting the wire.
 */

export interface TrelloLabel {
  id?: string;
  name?: string | null;
  color?: string | null;
}

export interface TrelloCard {
  id?: string;
  idShort?: number;
  shortLink?: string;
  shortUrl?: string;
  url?: string;
  name?: string;
  desc?: string;
  idBoard?: string;
  idList?: string;
  closed?: boolean;
  due?: string | null;
  dueComplete?: boolean;
  /** UNCONFIRMED field (not in trello.js' card model): mapped only when it is a date string. */
  start?: string | null;
  dateLastActivity?: string;
  idMembers?: string[];
  idLabels?: string[];
  labels?: TrelloLabel[];
  pos?: number;
}

export interface TrelloList {
  id?: string;
  name?: string;
  closed?: boolean;
}

export interface TrelloMember {
  id?: string;
  username?: string;
  fullName?: string;
}

export interface TrelloBoard {
  id?: string;
  name?: string;
  closed?: boolean;
}

export interface TrelloAction {
  /** 24-hex object id; `since`/`before` accept it (Trello's REST API reference). */
  id?: string;
  type?: string;
  /** ISO datetime of the action. */
  date?: string;
  data?: {
    card?: { id?: string; closed?: boolean };
    list?: { id?: string; name?: string };
    board?: { id?: string; name?: string };
    /** moveCardFromBoard: where the card went. UNCONFIRMED field name (not in Trello's docs). */
    boardTarget?: { id?: string };
    /** Previous values of the changed fields (updateCard, updateList, updateBoard). */
    old?: Record<string, unknown>;
  };
}

/**
 * A webhook delivery body
 * (https://developer.atlassian.com/cloud/trello/guides/rest-api/webhooks/): the action and the
 * watched model after the change.
 */
export interface TrelloWebhookBody {
  action?: TrelloAction;
  model?: { id?: string };
}

export interface TrelloWebhook {
  id?: string;
  idModel?: string;
  callbackURL?: string;
}
