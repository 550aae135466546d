import { BadRequestException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { ItemLinkDto, ItemLinksPageDto, LinkEvidenceDto } from './dto/item-link.dto.js';
import {
  decodeOpaqueCursor,
  encodeOpaqueCursor,
  UUID_TEXT,
} from '../core/validation/opaque-cursor.js';
import { LINKS_DEFAULT_LIMIT } from './dto/item-link.dto.js';
import { LINK_COLUMNS, LIVE_ITEMS_SQL, LOCK_USER_LINKS_SQL, SPLIT_LINK_SQL } from './links.sql.js';
import { MergedEntriesWriter } from './merged-entries.writer.js';

interface LinkRow {
  id: string;
  item_id: string;
  linked_item_id: string;
  origin: 'detected' | 'manual';
  confidence: number;
  reason: string;
  evidence: LinkEvidenceDto | null;
  created_at: Date;
  updated_at: Date;
}

/** What a manual join writes as its reason. */
export const MANUAL_REASON = 'Joined by hand';

/**
 * The link routes: list, join by hand, split. A join or a split takes the user's linker lock
 * (waiting for a detector pass in progress), changes the link, and recomputes the groups of
 * both items and their merged entries in the same transaction, so the merged view shows it at
 * once.
 */
@Injectable()
export class ItemLinksService {
  private readonly logger = new Logger('Links');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly writer: MergedEntriesWriter,
  ) {}

  async list(query: {
    userId: string;
    itemId?: string;
    cursor?: string;
    limit?: number;
  }): Promise<ItemLinksPageDto> {
    const limit = query.limit ?? LINKS_DEFAULT_LIMIT;
    const params: unknown[] = [query.userId];
    let sql = `SELECT ${LINK_COLUMNS} FROM item_links WHERE user_id = $1`;
    if (query.itemId !== undefined) {
      const i = params.push(query.itemId.toLowerCase());
      sql += ` AND (item_id = $${i}::uuid OR linked_item_id = $${i}::uuid)`;
    }
    if (query.cursor !== undefined)
      sql += ` AND id > $${params.push(decodeCursor(query.cursor))}::uuid`;
    sql += ` ORDER BY id LIMIT $${params.push(limit + 1)}`;
    const rows = await this.dataSource.query<LinkRow[]>(sql, params);
    const page = rows.slice(0, limit);
    return {
      links: page.map(toDto),
      nextCursor: rows.length > limit ? encodeCursor(page.at(-1)!.id) : null,
    };
  }

  /**
   * Joins two items by hand. A new link answers `created: true`; a pair already linked answers
   * the existing link (a detected one becomes manual, so detection can no longer remove it).
   * Either way the pair's rejection, if any, is cleared.
   */
  async join(input: {
    userId: string;
    itemId: string;
    linkedItemId: string;
  }): Promise<{ link: ItemLinkDto; created: boolean }> {
    const [a, b] = [input.itemId.toLowerCase(), input.linkedItemId.toLowerCase()].sort();
    if (a === b) throw new BadRequestException('linkedItemId must be another item than itemId');
    const result = await this.dataSource.transaction(async (manager) => {
      await manager.query(LOCK_USER_LINKS_SQL, [input.userId]);
      const live = await manager.query<{ id: string }[]>(LIVE_ITEMS_SQL, [input.userId, [a, b]]);
      const found = new Set(live.map((r) => r.id));
      for (const [field, id] of [
        ['itemId', input.itemId.toLowerCase()],
        ['linkedItemId', input.linkedItemId.toLowerCase()],
      ]) {
        if (!found.has(id))
          throw new NotFoundException(`${field}: no live item ${id} of this user`);
      }
      await manager.query(
        'DELETE FROM item_link_rejections WHERE item_id = $1 AND linked_item_id = $2',
        [a, b],
      );
      const [row] = await manager.query<(LinkRow & { inserted: boolean })[]>(
        `INSERT INTO item_links AS l (id, item_id, linked_item_id, user_id, reason, confidence, origin)
         VALUES (gen_random_uuid(), $1, $2, $3, $4, 1, 'manual')
         ON CONFLICT (item_id, linked_item_id) DO UPDATE SET
           origin = 'manual', reason = EXCLUDED.reason, confidence = 1, updated_at = now()
         RETURNING ${LINK_COLUMNS}, (xmax = 0) AS inserted`,
        [a, b, input.userId, MANUAL_REASON],
      );
      await this.writer.recompute(manager, { userId: input.userId, seeds: [a, b] });
      return { link: toDto(row), created: row.inserted };
    });
    this.logger.log({
      msg: result.created ? 'items joined by hand' : 'link kept as manual',
      userId: input.userId,
      linkId: result.link.id,
    });
    return result;
  }

  /**
   * Splits a link: removes it and records the pair as "not the same", so detection never links
   * it again (a manual join of the pair lifts that). 404 when the link is not the user's.
   */
  async split(userId: string, linkId: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query(LOCK_USER_LINKS_SQL, [userId]);
      const [gone] = await manager.query<{ item_id: string; linked_item_id: string }[]>(
        SPLIT_LINK_SQL,
        [linkId.toLowerCase(), userId],
      );
      if (!gone) throw new NotFoundException(`No link ${linkId} of this user`);
      await manager.query(
        `INSERT INTO item_link_rejections (item_id, linked_item_id, user_id) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING`,
        [gone.item_id, gone.linked_item_id, userId],
      );
      await this.writer.recompute(manager, {
        userId,
        seeds: [gone.item_id, gone.linked_item_id],
      });
    });
    this.logger.log({ msg: 'link split', userId, linkId });
  }
}

function toDto(row: LinkRow): ItemLinkDto {
  return {
    id: row.id,
    itemId: row.item_id,
    linkedItemId: row.linked_item_id,
    origin: row.origin,
    confidence: Number(row.confidence),
    reason: row.reason,
    evidence: { matches: row.evidence?.matches ?? [] },
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The list cursor: `{"v":1,"id":"<last link id>"}` (encodeOpaqueCursor), opaque to clients. */
function encodeCursor(id: string): string {
  return encodeOpaqueCursor({ id });
}

function decodeCursor(cursor: string): string {
  const id = decodeOpaqueCursor(cursor)?.id;
  if (typeof id === 'string' && UUID_TEXT.test(id)) return id;
  throw new BadRequestException('cursor is malformed');
}
