import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { PdeckEventType } from '../pdeck-event.js';

/**
 * A notification for PDeck, written in the same transaction as the change it describes and moved
 * to the `pdeck-events` queue by OutboxRelay once committed. The row id is the event id: it
 * becomes the BullMQ job id and the `webhook-id` header, so a relay that enqueues a row twice
 * (crash between enqueue and delete) produces one job and PDeck sees one id.
 */
@Entity({ name: 'event_outbox' })
@Index('ix_event_outbox_seq', ['seq'])
export class EventOutboxEntry {
  /** `evt_<uuid>`. */
  @PrimaryColumn('text', { primaryKeyConstraintName: 'PK_event_outbox' })
  id: string;

  /**
   * Insertion order, from the `event_outbox_seq` sequence (taken explicitly by the insert, like
   * items.change_seq): the relay enqueues in this order.
   */
  @Column('bigint')
  seq: string;

  @Column('text')
  type: PdeckEventType;

  /** The event's data as PDeck receives it (ids and counts only, see pickEventData). */
  @Column('jsonb')
  data: Record<string, unknown>;

  /** When the event happened: the envelope's `timestamp`. */
  @Column('timestamptz', { name: 'occurred_at' })
  occurredAt: Date;
}
