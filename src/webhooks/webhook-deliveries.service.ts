import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Repository } from 'typeorm';
import { WebhookDelivery, type WebhookDeliveryStatus } from './entities/webhook-delivery.entity.js';

export interface NewDelivery {
  provider: string;
  deliveryId: string;
  headers: Record<string, string>;
  body: string;
}

/*
 * The receiver's insert and the worker's attempt run once per delivery, on the hot path of every
 * webhook: plain statements instead of TypeORM query builders (profile of `npm run bench` P2:
 * building and hydrating queries was the largest part of the worker's CPU per delivery), and one
 * round trip for the attempt instead of an UPDATE then a SELECT. Same statements' semantics as
 * the builders they replace.
 */

/** ON CONFLICT DO NOTHING on the unique (provider, delivery_id): a duplicate returns no row. */
const INSERT_SQL = `INSERT INTO webhook_deliveries (id, provider, delivery_id, headers, body)
  VALUES ($1, $2, $3, $4::jsonb, $5) ON CONFLICT DO NOTHING RETURNING id`;

/** Counts the attempt and reads the row in one statement; no row when it is already finished. */
const START_ATTEMPT_SQL = `WITH attempt AS (
  UPDATE webhook_deliveries SET attempts = attempts + 1 WHERE id = $1 AND status = 'received'
  RETURNING id, provider, delivery_id, received_at, status, headers, body, attempts,
    processed_at, error)
SELECT * FROM attempt`;

/** Only a delivery still waiting is finished: a final state is never overwritten. */
const FINISH_SQL = `UPDATE webhook_deliveries SET status = $2, error = $3, processed_at = $4
  WHERE id = $1 AND status = 'received'`;

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

/** Final states: the worker never touches these again. */
type FinalStatus = Exclude<WebhookDeliveryStatus, 'received'>;

/** Every read and write of webhook_deliveries: the durable inbox and dedupe of the receiver. */
@Injectable()
export class WebhookDeliveriesService {
  constructor(
    @InjectRepository(WebhookDelivery) private readonly repo: Repository<WebhookDelivery>,
  ) {}

  /**
   * Stores a delivery unless (provider, delivery id) is already stored. Returns the new row id,
   * or null for a duplicate. One statement, so concurrent copies race on the unique index and
   * exactly one wins.
   */
  async insert(delivery: NewDelivery): Promise<string | null> {
    const rows = await this.repo.query<{ id: string }[]>(INSERT_SQL, [
      randomUUID(),
      delivery.provider,
      delivery.deliveryId,
      JSON.stringify(delivery.headers),
      delivery.body,
    ]);
    return rows[0]?.id ?? null;
  }

  find(id: string): Promise<WebhookDelivery | null> {
    return this.repo.findOneBy({ id });
  }

  /** Counts an attempt on a delivery that still waits; null when it was already finished. */
  async startAttempt(id: string): Promise<WebhookDelivery | null> {
    const [row] = await this.repo.query<AttemptRow[]>(START_ATTEMPT_SQL, [id]);
    if (!row) return null;
    return this.repo.create({
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
  }

  async finish(id: string, status: FinalStatus, error: string | null = null): Promise<void> {
    await this.repo.query(FINISH_SQL, [id, status, error?.slice(0, 500) ?? null, new Date()]);
  }

  /** Ids of deliveries still waiting that arrived before `before` (lost enqueue, lost Redis). */
  async stale(before: Date, limit = 500): Promise<string[]> {
    const rows = await this.repo.find({
      select: { id: true },
      where: { status: 'received', receivedAt: LessThan(before) },
      order: { receivedAt: 'ASC' },
      take: limit,
    });
    return rows.map((r) => r.id);
  }
}
