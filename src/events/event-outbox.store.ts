import { Injectable } from '@nestjs/common';
import type { EntityManager, QueryRunner } from 'typeorm';
import type { PdeckEventJob, PdeckEventType } from './pdeck-event.js';

interface OutboxRow {
  id: string;
  type: PdeckEventType;
  data: PdeckEventJob['data'];
  occurred_at: Date;
}

/** Every statement on event_outbox (see EventOutboxEntry). */
@Injectable()
export class EventOutboxStore {
  /** Writes one event through `manager`: inside the caller's transaction when it has one. */
  async insert(manager: EntityManager, event: PdeckEventJob): Promise<void> {
    await manager.query(
      `INSERT INTO event_outbox (id, seq, type, data, occurred_at)
       VALUES ($1, nextval('event_outbox_seq'), $2, $3::jsonb, $4)`,
      [event.id, event.type, JSON.stringify(event.data), event.timestamp],
    );
  }

  /** The oldest `limit` committed events, in insertion order, locked until the caller commits. */
  async oldest(runner: QueryRunner, limit: number): Promise<PdeckEventJob[]> {
    const rows: OutboxRow[] = await runner.query(
      `SELECT id, type, data, occurred_at FROM event_outbox
        ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
    return rows.map((row) => ({
      id: row.id,
      type: row.type,
      timestamp: new Date(row.occurred_at).toISOString(),
      data: row.data,
    }));
  }

  async delete(runner: QueryRunner, ids: readonly string[]): Promise<void> {
    await runner.query('DELETE FROM event_outbox WHERE id = ANY($1)', [ids]);
  }
}
