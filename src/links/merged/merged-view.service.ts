import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { FEED_DEFAULT_LIMIT } from '../../items/dto/items-feed-query.dto.js';
import { decodeFeedCursor, encodeFeedCursor } from '../../items/feed-cursor.js';
import type { MergedEntriesPageDto, MergedEntryDto } from './dto/merged-entry.dto.js';
import type { MergedRecord } from './merge-policy.js';
import { MergePolicyService } from './merge-policy.service.js';
import { type LoadedMember, loadMembers } from './merged-members.js';

export interface MergedFeedQuery {
  userId: string;
  /** Opaque cursor of a previous merged page; throws BadRequestException when malformed. */
  cursor?: string;
  limit?: number;
}

interface EntryRow {
  id: string;
  member_ids: string[];
  change_seq: string;
  deleted_at: Date | null;
}

/**
 * A user's merged entries in change order. Gap-free for the same reason as the items feed: the
 * detector allocates merged_change_seq under the user's lock, so per user commit order is
 * sequence order. $1 user, $2 after, $3 limit + 1.
 */
const ENTRIES_SQL = `
SELECT id, member_ids, change_seq::text AS change_seq, deleted_at
FROM merged_entries WHERE user_id = $1 AND change_seq > $2::bigint
ORDER BY merged_entries.change_seq LIMIT $3`;

/**
 * GET /v1/items?merged=true: the merged view (docs/cross-source.md, "Merged view"). Entries and
 * their members are read in one repeatable-read snapshot, so a page never pairs an entry with
 * members written after it; the merged fields are computed on read by the precedence policy.
 */
@Injectable()
export class MergedViewService {
  private readonly logger = new Logger(MergedViewService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly policy: MergePolicyService,
  ) {}

  async read(query: MergedFeedQuery): Promise<MergedEntriesPageDto> {
    const after = decodeFeedCursor(query.cursor);
    const limit = query.limit ?? FEED_DEFAULT_LIMIT;
    const { rows, members } = await this.dataSource.transaction(
      'REPEATABLE READ',
      async (manager) => {
        const rows = await manager.query<EntryRow[]>(ENTRIES_SQL, [query.userId, after, limit + 1]);
        const live = rows.slice(0, limit).filter((r) => r.deleted_at === null);
        const ids = live.flatMap((r) => r.member_ids);
        return { rows, members: await loadMembers(manager, query.userId, ids) };
      },
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1)?.change_seq ?? after;
    return {
      entries: page.map((row) => this.toEntry(query.userId, row, members)),
      nextCursor: encodeFeedCursor(last),
      hasMore: rows.length > limit,
    };
  }

  private toEntry(
    userId: string,
    row: EntryRow,
    members: ReadonlyMap<string, LoadedMember>,
  ): MergedEntryDto {
    if (row.deleted_at !== null) {
      return { id: row.id, deletedAt: row.deleted_at.toISOString(), changeSeq: row.change_seq };
    }
    const found = row.member_ids.flatMap((id) => members.get(id) ?? []);
    if (found.length === 0) {
      // Its members were deleted and the detector has not rewritten the entry yet: shown as gone
      // (as of this read) rather than as a thing without content; the rewrite comes next.
      this.logger.warn({ msg: 'merged entry without live members', userId, entryId: row.id });
      return { id: row.id, deletedAt: new Date().toISOString(), changeSeq: row.change_seq };
    }
    const merged: MergedRecord = this.policy.merge(found);
    return {
      id: row.id,
      kind: merged.kind,
      members: [...found]
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((m) => ({
          itemId: m.id,
          provider: m.provider,
          connectionId: m.connectionId,
          kind: m.kind,
          externalId: m.externalId,
          url: m.url,
        })),
      fields: merged.fields,
      conflicts: merged.conflicts,
      changeSeq: row.change_seq,
    };
  }
}
