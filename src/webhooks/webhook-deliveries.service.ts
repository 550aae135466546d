import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, Repository } from 'typeorm';
import { WebhookDelivery, type WebhookDeliveryStatus } from './entities/webhook-delivery.entity.js';

export interface NewDelivery {
  provider: string;
  deliveryId: string;
  headers: Record<string, string>;
  body: string;
}

/*
 * The receiver's insert and the worker's attempt run on the hot path of every
 * webhook: plain statements instead of TypeORM query builders (profile of `npm run bench` P2:
 * building and hydrating queries was the largest part of the worker's CPU per delivery), and one
 * round trip for the attempt instead of an UPDATE then a SELECT. Same statements' semantics as
 * the builders they replace.
 */

/**
 * A group of deliveries in one statement (DeliveryInbox). Duplicates, against stored rows or
 * within the group, are skipped by the unique (provider, delivery_id); the returned ids tell
 * which of the proposed rows were stored.
 */
const INSERT_MANY_SQL = `INSERT INTO webhook_deliveries (id, provider, delivery_id, headers, body)
  SELECT id, provider, delivery_id, headers::jsonb, body
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[])
    AS t(id, provider, delivery_id, headers, body)
  ON CONFLICT DO NOTHING RETURNING id`;

/**
 * Counts an attempt on each delivery and reads the rows in one statement; rows already finished
 * are left out. Rows are locked in id order, so two statements over overlapping sets cannot
 * deadlock.
 */
const START_ATTEMPTS_SQL = `WITH target AS (
  SELECT id FROM webhook_deliveries WHERE id = ANY($1::uuid[]) AND status = 'received'
  ORDER BY id FOR UPDATE),
attempt AS (
  UPDATE webhook_deliveries d SET attempts = d.attempts + 1 FROM target WHERE d.id = target.id
  RETURNING d.id, d.provider, d.delivery_id, d.received_at, d.status, d.headers, d.body,
    d.attempts, d.processed_at, d.error)
SELECT * FROM attempt`;

/** Only a delivery still waiting is finished: a final state is never overwritten. */
const FINISH_SQL = `UPDATE webhook_deliveries
  SET status = $2, error = $3, processed_at = $4, connection_ids = $5::uuid[]
  WHERE id = $1 AND status = 'received'`;

/**
 * Marks many deliveries processed, each with the connections it was routed to ($1: JSON
 * [{id, connection_ids}] sorted by id, so concurrent statements lock rows in one order).
 */
const FINISH_PROCESSED_SQL = `UPDATE webhook_deliveries AS d
  SET status = 'processed', error = NULL, processed_at = $2, connection_ids = t.connection_ids
  FROM jsonb_to_recordset($1::jsonb) AS t(id uuid, connection_ids uuid[])
  WHERE d.id = t.id AND d.status = 'received'`;

/**
 * Deliveries still waiting that arrived before $1, in (received_at, id) order after the cursor
 * ($2, $3; NULLs: from the start). received_at travels as text so the cursor keeps Postgres'
 * microseconds: a JavaScript Date would round it down and revisit the same rows forever.
 */
const STALE_SQL = `SELECT id, received_at::text AS received_at FROM webhook_deliveries
  WHERE status = 'received' AND received_at < $1
    AND ($2::timestamptz IS NULL OR (received_at, id) > ($2::timestamptz, $3::uuid))
  ORDER BY received_at, id LIMIT $4`;

/*
 * Retention and purge statements: each touches at most $batch rows (callers loop), so no
 * statement holds row locks for long; SKIP LOCKED leaves rows another statement holds for the
 * next round. Only finished rows (processed_at set) are ever stripped or deleted by retention.
 */
const DELETE_FINISHED_SQL = `WITH doomed AS (
    SELECT id FROM webhook_deliveries
    WHERE processed_at < now() - make_interval(days => $1) AND status <> 'received'
    LIMIT $2 FOR UPDATE SKIP LOCKED),
  gone AS (DELETE FROM webhook_deliveries d USING doomed WHERE d.id = doomed.id RETURNING 1)
SELECT count(*)::int AS n FROM gone`;

const STRIP_BODIES_SQL = `WITH doomed AS (
    SELECT id FROM webhook_deliveries
    WHERE processed_at < now() - make_interval(days => $1) AND body IS NOT NULL
      AND status <> 'received'
    LIMIT $2 FOR UPDATE SKIP LOCKED),
  stripped AS (UPDATE webhook_deliveries d SET body = NULL FROM doomed WHERE d.id = doomed.id
    RETURNING 1)
SELECT count(*)::int AS n FROM stripped`;

const PURGE_CONNECTION_SQL = `WITH doomed AS (
    SELECT id FROM webhook_deliveries WHERE connection_ids @> ARRAY[$1::uuid]
    LIMIT $2 FOR UPDATE SKIP LOCKED),
  gone AS (DELETE FROM webhook_deliveries d USING doomed WHERE d.id = doomed.id RETURNING 1)
SELECT count(*)::int AS n FROM gone`;

/** Rows per retention or purge statement. */
export const RETENTION_BATCH = 5_000;

/** Where the sweeper's last page ended: the next page starts after it. */
export interface StaleCursor {
  /** received_at as Postgres text (full precision). */
  receivedAt: string;
  id: string;
}

interface AttemptRow {
  id: string;
  provider: string;
  delivery_id: string;
  received_at: Date;
  status: WebhookDeliveryStatus;
  headers: Record<string, string>;
  body: string;
  attempts: number;
  processed_at: Date | null;
  error: string | null;
}

/** A delivery being processed: still waiting, so its body is always there. */
export type WaitingDelivery = WebhookDelivery & { body: string };

/** Final states: the worker never touches these again. */
type FinalStatus = Exclude<WebhookDeliveryStatus, 'received'>;

/** Every read and write of webhook_deliveries: the durable inbox and dedupe of the receiver. */
@Injectable()
export class WebhookDeliveriesService {
  constructor(
    @InjectRepository(WebhookDelivery) private readonly repo: Repository<WebhookDelivery>,
  ) {}

  /**
   * Stores deliveries unless (provider, delivery id) is already stored: per delivery, in order,
   * the new row id or null for a duplicate. One statement, so concurrent copies race on the
   * unique index and exactly one wins.
   */
  async insertMany(deliveries: readonly NewDelivery[]): Promise<Array<string | null>> {
    const ids = deliveries.map(() => randomUUID());
    const rows = await this.repo.query<{ id: string }[]>(INSERT_MANY_SQL, [
      ids,
      deliveries.map((d) => d.provider),
      deliveries.map((d) => d.deliveryId),
      deliveries.map((d) => JSON.stringify(d.headers)),
      deliveries.map((d) => d.body),
    ]);
    const stored = new Set(rows.map((r) => r.id));
    return ids.map((id) => (stored.has(id) ? id : null));
  }

  find(id: string): Promise<WebhookDelivery | null> {
    return this.repo.findOneBy({ id });
  }

  /**
   * Counts an attempt on each delivery that still waits, in one statement; the result holds
   * those rows by id (a finished delivery is absent).
   */
  async startAttempts(ids: readonly string[]): Promise<Map<string, WaitingDelivery>> {
    const rows = await this.repo.query<AttemptRow[]>(START_ATTEMPTS_SQL, [[...ids]]);
    const found = new Map<string, WaitingDelivery>();
    for (const row of rows) {
      const delivery = this.repo.create({
        id: row.id,
        provider: row.provider,
        deliveryId: row.delivery_id,
        receivedAt: row.received_at,
        status: row.status,
        headers: row.headers,
        body: row.body,
        attempts: row.attempts,
        processedAt: row.processed_at,
        error: row.error,
      });
      found.set(row.id, Object.assign(delivery, { body: row.body }));
    }
    return found;
  }

  /**
   * Records a delivery's final state and the connections it was routed to (what a purge of one
   * of them deletes). A delivery already finished is left as it is.
   */
  /** With `manager`: inside the caller's transaction (the delivery's item writes). */
  async finish(
    id: string,
    status: FinalStatus,
    error: string | null = null,
    connectionIds: readonly string[] = [],
    manager?: EntityManager,
  ): Promise<void> {
    await (manager ?? this.repo.manager).query(FINISH_SQL, [
      id,
      status,
      error?.slice(0, 500) ?? null,
      new Date(),
      [...new Set(connectionIds)],
    ]);
  }

  /**
   * Marks deliveries processed in one statement (with `manager`, in the transaction of their
   * item writes), each with the connections it was routed to. Finished ones are left alone.
   */
  async finishProcessed(
    deliveries: readonly { rowId: string; connectionIds: readonly string[] }[],
    manager?: EntityManager,
  ): Promise<void> {
    if (deliveries.length === 0) return;
    const rows = [...deliveries]
      .sort((a, b) => (a.rowId < b.rowId ? -1 : a.rowId > b.rowId ? 1 : 0))
      .map((d) => ({ id: d.rowId, connection_ids: [...new Set(d.connectionIds)] }));
    await (manager ?? this.repo.manager).query(FINISH_PROCESSED_SQL, [
      JSON.stringify(rows),
      new Date(),
    ]);
  }

  /**
   * One page of deliveries still waiting that arrived before `before` (lost enqueue, lost Redis,
   * a job that ended without finishing its row), oldest first, starting after `after`. The
   * sweeper walks the pages with the returned cursor, so a page of rows it cannot move on does
   * not hide the rows behind it; `next` is null once the last page was read.
   */
  async stale(
    before: Date,
    after: StaleCursor | null = null,
    limit = 500,
  ): Promise<{ ids: string[]; next: StaleCursor | null }> {
    const rows = await this.repo.query<{ id: string; received_at: string }[]>(STALE_SQL, [
      before,
      after?.receivedAt ?? null,
      after?.id ?? null,
      limit,
    ]);
    const last = rows.at(-1);
    return {
      ids: rows.map((r) => r.id),
      next: rows.length === limit && last ? { receivedAt: last.received_at, id: last.id } : null,
    };
  }

  /** Deletes up to `batch` finished deliveries finished more than `days` days ago. */
  async deleteFinished(days: number, batch = RETENTION_BATCH): Promise<number> {
    return this.count(DELETE_FINISHED_SQL, [days, batch]);
  }

  /** Empties the body of up to `batch` finished deliveries finished more than `days` days ago. */
  async stripBodies(days: number, batch = RETENTION_BATCH): Promise<number> {
    return this.count(STRIP_BODIES_SQL, [days, batch]);
  }

  /** Deletes up to `batch` deliveries routed to the connection, whatever their age or status. */
  async purgeConnection(connectionId: string, batch = RETENTION_BATCH): Promise<number> {
    return this.count(PURGE_CONNECTION_SQL, [connectionId, batch]);
  }

  private async count(sql: string, params: unknown[]): Promise<number> {
    const [row] = await this.repo.query<{ n: number }[]>(sql, params);
    return row?.n ?? 0;
  }
}
