/**
 * Domain events of a connection's life. Auth emits them; Sync (schedules) and Webhooks
 * (subscriptions) and Events (notifications to PDeck) handle them, so Auth imports neither.
 * Payloads carry ids only, never credentials.
 */
export const CONNECTION_EVENTS = {
  created: 'connection.created',
  reconnected: 'connection.reconnected',
  needsReauth: 'connection.needs_reauth',
  deleted: 'connection.deleted',
} as const;

export type ConnectionEventName = (typeof CONNECTION_EVENTS)[keyof typeof CONNECTION_EVENTS];

export interface ConnectionEvent {
  connectionId: string;
  userId: string;
  provider: string;
  /** Why, for needs_reauth (e.g. "invalid_grant"); never token material. */
  reason?: string;
  /** connection.deleted only: whether the caller asked to purge the items too. */
  purgeItems?: boolean;
}
