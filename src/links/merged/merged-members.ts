import type { ItemRow } from '../../items/changes-feed.service.js';
import type { MergeKind, MergeMember } from './merge-policy.js';

/** Anything that runs SQL: the DataSource, or a transaction's EntityManager. */
export interface SqlRunner {
  query<T = unknown>(sql: string, parameters?: unknown[]): Promise<T>;
}

/** A member item as the merged view lists it, with what the policy reads. */
export interface LoadedMember extends MergeMember {
  externalId: string;
}

/** The item columns the policy reads, plus the organizer and the connection's account. */
type MemberRow = Pick<
  ItemRow,
  | 'id'
  | 'provider'
  | 'connection_id'
  | 'external_id'
  | 'title'
  | 'body'
  | 'status'
  | 'starts_at'
  | 'ends_at'
  | 'all_day'
  | 'due_at'
  | 'url'
  | 'assignees'
  | 'labels'
  | 'external_updated_at'
  | 'updated_at'
> & {
  kind: MergeKind;
  organizer: { email?: unknown; self?: unknown } | null;
  account_id: string | null;
  account_label: string | null;
};

/**
 * Live items of one user by id, with the connection's account (its email is how an event's
 * organizer copy is recognized) and only `raw.organizer` of the payload. One statement for any
 * number of entries; items of another user are never read.
 */
const MEMBERS_SQL = `
SELECT i.id, i.provider, i.kind, i.connection_id, i.external_id, i.title, i.body, i.status,
  i.starts_at, i.ends_at, i.all_day, i.due_at, i.url, i.assignees, i.labels,
  i.external_updated_at, i.updated_at,
  CASE WHEN jsonb_typeof(i.raw->'organizer') = 'object' THEN i.raw->'organizer' END AS organizer,
  c.account_id, c.account_label
FROM items i LEFT JOIN connections c ON c.id = i.connection_id
WHERE i.user_id = $1 AND i.id = ANY($2::uuid[]) AND i.deleted_at IS NULL`;

export async function loadMembers(
  runner: SqlRunner,
  userId: string,
  itemIds: readonly string[],
): Promise<Map<string, LoadedMember>> {
  if (itemIds.length === 0) return new Map();
  const rows = await runner.query<MemberRow[]>(MEMBERS_SQL, [userId, [...new Set(itemIds)]]);
  return new Map(rows.map((row) => [row.id, toMember(row)]));
}

function toMember(row: MemberRow): LoadedMember {
  return {
    id: row.id,
    provider: row.provider,
    kind: row.kind,
    connectionId: row.connection_id,
    externalId: row.external_id,
    title: row.title,
    body: row.body,
    status: row.status,
    startsAt: iso(row.starts_at),
    endsAt: iso(row.ends_at),
    allDay: row.all_day,
    dueAt: iso(row.due_at),
    url: row.url,
    assignees: row.assignees,
    labels: row.labels,
    externalUpdatedAt: iso(row.external_updated_at),
    updatedAt: row.updated_at.toISOString(),
    accountEmail: emailOf(row.account_id) ?? emailOf(row.account_label),
    organizer: row.organizer
      ? {
          email: typeof row.organizer.email === 'string' ? row.organizer.email : null,
          self: row.organizer.self === true,
        }
      : null,
  };
}

/** A Google Calendar account id is its primary calendar id, the account's email. */
function emailOf(value: string | null): string | null {
  return value !== null && value.includes('@') ? value : null;
}

function iso(value: Date | null): string | null {
  return value === null ? null : value.toISOString();
}
