import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ItemKind } from '@pdeck/integration-sdk';
import type { ItemDto, ItemsPageDto } from './dto/item.dto.js';
import { FEED_DEFAULT_LIMIT } from './dto/items-feed-query.dto.js';
import { decodeFeedCursor, encodeFeedCursor } from './feed-cursor.js';

export interface FeedQuery {
  userId: string;
  provider?: string;
  kind?: ItemKind;
  /** Opaque cursor from a previous page; throws BadRequestException when malformed. */
  cursor?: string;
  limit?: number;
  includeRaw?: boolean;
}

/** An `items` row as node-postgres returns it (snake_case columns; change_seq as text). */
export interface ItemRow {
  id: string;
  connection_id: string;
  provider: string;
  kind: ItemKind;
  external_id: string;
  container_id: string | null;
  container_name: string | null;
  title: string | null;
  body: string | null;
  status: string | null;
  starts_at: Date | null;
  ends_at: Date | null;
  all_day: boolean;
  due_at: Date | null;
  url: string | null;
  assignees: string[];
  labels: string[];
  author: string | null;
  external_updated_at: Date | null;
  external_version: string;
  deleted_at: Date | null;
  change_seq: string;
  updated_at: Date;
  raw?: unknown;
}

const COLUMNS = `id, connection_id, provider, kind, external_id, container_id, container_name,
  title, body, status, starts_at, ends_at, all_day, due_at, url, assignees, labels, author,
  external_updated_at, external_version, deleted_at, change_seq::text AS change_seq, updated_at`;

/**
 * The changes feed: a user's items in change_seq order, tombstones included. Reading by
 * `change_seq > cursor` is gap-free because writers allocate a user's change_seqs and commit
 * under that user's lock (see LOCK_USER_FEED_SQL): once a seq is visible, every smaller seq of
 * the same user is too. The query walks ix_items_user_change_seq (user_id, change_seq).
 */
@Injectable()
export class ChangesFeedService {
  constructor(private readonly dataSource: DataSource) {}

  async read(query: FeedQuery): Promise<ItemsPageDto> {
    const after = decodeFeedCursor(query.cursor);
    const limit = query.limit ?? FEED_DEFAULT_LIMIT;
    const params: unknown[] = [query.userId, after];
    let sql = `SELECT ${COLUMNS}${query.includeRaw ? ', raw' : ''}
      FROM items WHERE user_id = $1 AND change_seq > $2::bigint`;
    if (query.provider !== undefined) sql += ` AND provider = $${params.push(query.provider)}`;
    if (query.kind !== undefined) sql += ` AND kind = $${params.push(query.kind)}`;
    // One row more than asked tells whether the client should read again right away.
    // Qualified: a bare `change_seq` would sort by the ::text output alias, not the index.
    sql += ` ORDER BY items.change_seq LIMIT $${params.push(limit + 1)}`;
    const rows = await this.dataSource.query<ItemRow[]>(sql, params);
    const page = rows.slice(0, limit);
    const last = page.at(-1)?.change_seq ?? after;
    return {
      items: page.map((row) => toItemDto(row, query.includeRaw === true)),
      // Without new items the position stays where it was: a poller resumes from it.
      nextCursor: encodeFeedCursor(last),
      hasMore: rows.length > limit,
    };
  }
}

function iso(value: Date | null): string | null {
  return value === null ? null : value.toISOString();
}

export function toItemDto(row: ItemRow, includeRaw: boolean): ItemDto {
  const dto: ItemDto = {
    id: row.id,
    connectionId: row.connection_id,
    provider: row.provider,
    kind: row.kind,
    externalId: row.external_id,
    container:
      row.container_id === null && row.container_name === null
        ? null
        : { id: row.container_id, name: row.container_name },
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
    author: row.author,
    externalUpdatedAt: iso(row.external_updated_at),
    externalVersion: row.external_version,
    deletedAt: iso(row.deleted_at),
    changeSeq: row.change_seq,
    updatedAt: row.updated_at.toISOString(),
  };
  if (includeRaw) dto.raw = row.raw;
  return dto;
}
