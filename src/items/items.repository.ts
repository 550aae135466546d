import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { ItemDeletion, NormalizedItem } from '@pdeck/integration-sdk';
import {
  dedupeDeletions,
  dedupeUpserts,
  deletionColumns,
  deletionRaws,
  keyColumns,
  serializeUpserts,
} from './item-page-input.js';
import {
  CURRENT_CHANGE_SEQ_SQL,
  DELETE_PAGE_SQL,
  LOCK_USER_FEED_SQL,
  MARK_SEEN_SQL,
  PURGE_CONNECTION_SQL,
  SWEEP_SQL,
  TOMBSTONE_UNKNOWN_SQL,
  UPSERT_PAGE_SQL,
} from './item-page.sql.js';

export interface UpsertPageInput {
  userId: string;
  connectionId: string;
  provider: string;
  upserts: readonly NormalizedItem[];
  deletions: readonly ItemDeletion[];
  /** Set during a full pass: every listed item is marked seen in it (see sweep). */
  generation?: number;
}

export interface ItemKey {
  kind: string;
  externalId: string;
}

export interface ChangeSeqRange {
  /** change_seq range this write allocated (null when it changed nothing); bigint as text. */
  minChangeSeq: string | null;
  maxChangeSeq: string | null;
}

export interface PageWriteResult extends ChangeSeqRange {
  inserted: number;
  updated: number;
  /** Upserts that changed nothing: same or older version, or a lower-versioned duplicate. */
  unchanged: number;
  deleted: number;
}

export interface SweepInput {
  /**
   * Owner of the connection, for the per-user feed lock. When omitted it is read from the
   * connection's items (one indexed lookup; no items means nothing to sweep).
   */
  userId?: string;
  connectionId: string;
  containerId: string;
  generation: number;
  /**
   * currentChangeSeq() read when the full pass started. Rows changed after it came from live
   * writes during the pass and are kept. Omit only when no live writes can happen.
   */
  passStartSeq?: string;
}

export interface SweepResult extends ChangeSeqRange {
  deleted: number;
}

interface SeqRow {
  min_seq: string | null;
  max_seq: string | null;
}

/**
 * The only writer of `items`. Every method that changes rows runs inside the CALLER's
 * transaction (the sync engine commits a page and its cursor together), takes the user's feed
 * lock first (see LOCK_USER_FEED_SQL) and keeps it until that transaction ends. Consequences for
 * callers:
 * - keep page transactions short (no provider HTTP inside them): other writers of the same user
 *   wait for the lock, and so does the visibility of their changes in the feed;
 * - call these methods before taking other row locks in the transaction (or always in the same
 *   order), so two writers of one user cannot deadlock on the lock and, say, a cursor row.
 */
@Injectable()
export class ItemsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async upsertPage(manager: EntityManager, input: UpsertPageInput): Promise<PageWriteResult> {
    assertInTransaction(manager);
    const upserts = dedupeUpserts(input.upserts);
    const deletions = dedupeDeletions(input.deletions);
    const result: PageWriteResult = {
      inserted: 0,
      updated: 0,
      unchanged: input.upserts.length,
      deleted: 0,
      minChangeSeq: null,
      maxChangeSeq: null,
    };
    if (upserts.length === 0 && deletions.length === 0) return result;
    await this.lockFeed(manager, input.userId);
    if (upserts.length > 0) await this.writeUpserts(manager, input, upserts, result);
    const unknown = deletions.filter((d) => d.tombstoneIfUnknown);
    if (unknown.length > 0) {
      const [row] = await manager.query<(SeqRow & { deleted: number })[]>(TOMBSTONE_UNKNOWN_SQL, [
        input.userId,
        input.connectionId,
        input.provider,
        ...deletionColumns(unknown),
        deletionRaws(unknown),
      ]);
      result.deleted += row.deleted;
      widenRange(result, row);
    }
    // After the upserts: a page that both edits and deletes an item ends with the item deleted.
    if (deletions.length > 0) {
      const [row] = await manager.query<(SeqRow & { deleted: number })[]>(DELETE_PAGE_SQL, [
        input.connectionId,
        ...deletionColumns(deletions),
      ]);
      result.deleted += row.deleted;
      widenRange(result, row);
    }
    return result;
  }

  /**
   * Full pass only: marks items the provider confirmed present without their content (an
   * ids-only listing) as seen in `generation`, so the sweep keeps them. No change_seq: being
   * listed again is not a change.
   */
  async markSeen(
    manager: EntityManager,
    input: { connectionId: string; generation: number; items: readonly ItemKey[] },
  ): Promise<void> {
    assertInTransaction(manager);
    if (input.items.length === 0) return;
    await manager.query(MARK_SEEN_SQL, [
      input.connectionId,
      input.generation,
      input.items.map((i) => i.kind),
      input.items.map((i) => i.externalId),
    ]);
  }

  /** The stored versions of these live items of a connection; absent ids are not live here. */
  async knownVersions(
    connectionId: string,
    kind: string,
    externalIds: readonly string[],
  ): Promise<Map<string, string>> {
    if (externalIds.length === 0) return new Map();
    const rows = await this.dataSource.query<{ external_id: string; external_version: string }[]>(
      `SELECT external_id, external_version FROM items
       WHERE connection_id = $1 AND kind = $2 AND external_id = ANY($3::text[]) AND deleted_at IS NULL`,
      [connectionId, kind, [...externalIds]],
    );
    return new Map(rows.map((r) => [r.external_id, r.external_version]));
  }

  /** One item's stored raw state and version, live or tombstone; null when never stored. */
  async storedState(
    connectionId: string,
    kind: string,
    externalId: string,
  ): Promise<{ raw: unknown; externalVersion: string; deleted: boolean } | null> {
    const [row] = await this.dataSource.query<
      { raw: unknown; external_version: string; deleted: boolean }[]
    >(
      `SELECT raw, external_version, deleted_at IS NOT NULL AS deleted FROM items
       WHERE connection_id = $1 AND kind = $2 AND external_id = $3`,
      [connectionId, kind, externalId],
    );
    return row
      ? { raw: row.raw, externalVersion: row.external_version, deleted: row.deleted }
      : null;
  }

  /**
   * Tombstones the items of one container that the full pass `generation` did not list. Call it
   * once, after the pass's last page, in a transaction of its own or with that page.
   */
  async sweep(manager: EntityManager, input: SweepInput): Promise<SweepResult> {
    assertInTransaction(manager);
    const userId = input.userId ?? (await this.ownerOf(manager, input.connectionId));
    if (userId === undefined) return { deleted: 0, minChangeSeq: null, maxChangeSeq: null };
    await this.lockFeed(manager, userId);
    const [row] = await manager.query<(SeqRow & { deleted: number })[]>(SWEEP_SQL, [
      input.connectionId,
      input.containerId,
      input.generation,
      input.passStartSeq ?? null,
    ]);
    return { deleted: row.deleted, minChangeSeq: row.min_seq, maxChangeSeq: row.max_seq };
  }

  /**
   * Tombstones every live item of one container: the account lost the resource (a board the
   * member left, a calendar removed), so the user no longer sees any of it at the provider.
   */
  tombstoneContainer(
    manager: EntityManager,
    input: { connectionId: string; userId: string; containerId: string },
  ): Promise<SweepResult> {
    // No generation reaches this one, so every item of the container counts as unseen.
    return this.sweep(manager, { ...input, generation: 2_147_483_647 });
  }

  /** Deletes every item of a connection (and links to them); no tombstones. Returns the count. */
  async purgeConnection(connectionId: string, manager?: EntityManager): Promise<number> {
    const [row] = await (manager ?? this.dataSource.manager).query<{ purged: number }[]>(
      PURGE_CONNECTION_SQL,
      [connectionId],
    );
    return row.purged;
  }

  /** The highest change_seq allocated so far; store it at the start of a full pass (sweep). */
  async currentChangeSeq(manager?: EntityManager): Promise<string> {
    const [row] = await (manager ?? this.dataSource.manager).query<{ seq: string }[]>(
      CURRENT_CHANGE_SEQ_SQL,
    );
    return row.seq;
  }

  /**
   * Takes the user's feed lock for the rest of the transaction. upsertPage and sweep do it
   * themselves; exposed for callers that must order it before other locks. Re-entrant.
   */
  async lockFeed(manager: EntityManager, userId: string): Promise<void> {
    assertInTransaction(manager);
    await manager.query(LOCK_USER_FEED_SQL, [userId]);
  }

  private async ownerOf(manager: EntityManager, connectionId: string): Promise<string | undefined> {
    const rows = await manager.query<{ user_id: string }[]>(
      'SELECT user_id FROM items WHERE connection_id = $1 LIMIT 1',
      [connectionId],
    );
    return rows[0]?.user_id;
  }

  private async writeUpserts(
    manager: EntityManager,
    input: UpsertPageInput,
    upserts: NormalizedItem[],
    result: PageWriteResult,
  ): Promise<void> {
    const generation = input.generation ?? null;
    const [row] = await manager.query<(SeqRow & { inserted: number; updated: number })[]>(
      UPSERT_PAGE_SQL,
      [input.userId, input.connectionId, input.provider, serializeUpserts(upserts), generation],
    );
    result.inserted = row.inserted;
    result.updated = row.updated;
    result.unchanged = input.upserts.length - row.inserted - row.updated;
    widenRange(result, row);
    // Only rows the upsert skipped still lack the generation; a fresh full sync skips nothing.
    if (generation !== null && row.inserted + row.updated < upserts.length) {
      await manager.query(MARK_SEEN_SQL, [input.connectionId, generation, ...keyColumns(upserts)]);
    }
  }
}

/**
 * An advisory xact lock outside a transaction is released at once, and the page would not
 * commit with its cursor: refuse rather than silently break the feed's ordering guarantee.
 */
function assertInTransaction(manager: EntityManager): void {
  if (!manager.queryRunner?.isTransactionActive) {
    throw new Error('ItemsRepository writes must run inside the caller transaction');
  }
}

/** Merges a statement's seq range into the page's (bigint as text: compare as BigInt). */
function widenRange(target: ChangeSeqRange, row: SeqRow): void {
  const { min_seq: min, max_seq: max } = row;
  if (min !== null && (target.minChangeSeq === null || BigInt(min) < BigInt(target.minChangeSeq)))
    target.minChangeSeq = min;
  if (max !== null && (target.maxChangeSeq === null || BigInt(max) > BigInt(target.maxChangeSeq)))
    target.maxChangeSeq = max;
}
