/**
 * Notifications sent to PDeck. They carry ids and counts only: PDeck fetches whatever it needs
 * through the internal API. Never put tokens, credentials or item content in here.
 */
export type PdeckEventType =
  | 'items.changed'
  | 'connection.needs_reauth'
  | 'connection.deleted'
  | 'connection.paused'
  | 'connection.issue_opened'
  | 'connection.issue_resolved'
  | 'sync.failed'
  | 'items.conflict';

export interface ItemsChangedData {
  connectionId: string;
  userId: string;
  provider: string;
  upserted: number;
  deleted: number;
  /** change_seq is a Postgres bigint, carried as a decimal string to keep full precision. */
  fromChangeSeq: string;
  toChangeSeq: string;
}

export interface ConnectionEventData {
  connectionId: string;
  userId: string;
  provider: string;
  /** e.g. "invalid_grant"; a short machine-readable reason, never token material. */
  reason?: string;
}

export interface SyncFailedData {
  connectionId: string;
  userId: string;
  provider: string;
  syncRunId: string;
  errorCode: string;
  /** Sanitized, human-readable; callers must not pass provider response bodies verbatim. */
  errorMessage: string;
}

/** An issue of a connection opened or resolved (docs/operations.md): ids and words only. */
export interface ConnectionIssueEventData {
  connectionId: string;
  userId: string;
  provider: string;
  issueId: string;
  /** auth | sync | webhook_subscription | rate_limited | resource_access */
  issueType: string;
  /** What is wrong, in words (issue_opened); never token material or provider bodies. */
  reason?: string;
}

/**
 * Sources of one merged entry disagree on a field the precedence policy cannot settle
 * (docs/cross-source.md, "Precedence policy"): once per new conflict. Ids and field names only;
 * PDeck reads the values through GET /v1/items?merged=true.
 */
export interface ItemsConflictData {
  userId: string;
  /** The merged entry's id (its smallest member item id). */
  entryId: string;
  /** The items that disagree. */
  itemIds: string[];
  /** The fields they disagree on (status, dueAt, startsAt, endsAt). */
  fields: string[];
}

export interface PdeckEventDataMap {
  'items.changed': ItemsChangedData;
  'connection.needs_reauth': ConnectionEventData;
  'connection.deleted': ConnectionEventData;
  'connection.paused': ConnectionEventData;
  'connection.issue_opened': ConnectionIssueEventData;
  'connection.issue_resolved': ConnectionIssueEventData;
  'sync.failed': SyncFailedData;
  'items.conflict': ItemsConflictData;
}

/** The JSON body PDeck receives. `timestamp` is when the event happened (ISO 8601). */
export interface PdeckEventEnvelope<T extends PdeckEventType = PdeckEventType> {
  type: T;
  timestamp: string;
  data: PdeckEventDataMap[T];
}

/** BullMQ job data: the envelope plus the stable id sent as `webhook-id` on every attempt. */
export interface PdeckEventJob<
  T extends PdeckEventType = PdeckEventType,
> extends PdeckEventEnvelope<T> {
  id: string;
}

/**
 * Allowed fields per type. notify() copies only these, so an object with extra properties
 * (TypeScript's structural typing lets them through) cannot leak anything into the payload.
 */
const FIELDS: { [K in PdeckEventType]: readonly (keyof PdeckEventDataMap[K])[] } = {
  'items.changed': [
    'connectionId',
    'userId',
    'provider',
    'upserted',
    'deleted',
    'fromChangeSeq',
    'toChangeSeq',
  ],
  'connection.needs_reauth': ['connectionId', 'userId', 'provider', 'reason'],
  'connection.deleted': ['connectionId', 'userId', 'provider', 'reason'],
  'connection.paused': ['connectionId', 'userId', 'provider', 'reason'],
  'connection.issue_opened': [
    'connectionId',
    'userId',
    'provider',
    'issueId',
    'issueType',
    'reason',
  ],
  'connection.issue_resolved': ['connectionId', 'userId', 'provider', 'issueId', 'issueType'],
  'sync.failed': ['connectionId', 'userId', 'provider', 'syncRunId', 'errorCode', 'errorMessage'],
  'items.conflict': ['userId', 'entryId', 'itemIds', 'fields'],
};

const MAX_STRING_LENGTH = 500;

export function pickEventData<T extends PdeckEventType>(
  type: T,
  data: PdeckEventDataMap[T],
): PdeckEventDataMap[T] {
  const picked: Record<string, unknown> = {};
  for (const key of FIELDS[type] as readonly string[]) {
    const value = (data as unknown as Record<string, unknown>)[key];
    if (value === undefined) continue;
    picked[key] = typeof value === 'string' ? value.slice(0, MAX_STRING_LENGTH) : value;
  }
  return picked as unknown as PdeckEventDataMap[T];
}

/** The exact bytes that are signed and sent; computed from the job so every attempt matches. */
export function serializeEnvelope(job: PdeckEventJob): string {
  const envelope: PdeckEventEnvelope = { type: job.type, timestamp: job.timestamp, data: job.data };
  return JSON.stringify(envelope);
}
