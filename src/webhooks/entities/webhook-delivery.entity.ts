import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type WebhookDeliveryStatus = 'received' | 'processed' | 'ignored' | 'unroutable' | 'failed';

/**
 * A verified delivery, stored before it is acknowledged: the unique (provider, delivery_id) is the
 * durable dedupe, and the stored raw body is what the worker processes (jobs carry the row id only).
 * Retention (WebhookRetentionService) strips the body of finished rows and later deletes them;
 * a disconnect with purgeItems deletes the rows routed to that connection.
 */
@Entity({ name: 'webhook_deliveries' })
@Index('uq_webhook_deliveries_provider_delivery', ['provider', 'deliveryId'], { unique: true })
@Index('ix_webhook_deliveries_status_received', ['status', 'receivedAt'])
/** Retention: finished rows past the delivery window. */
@Index('ix_webhook_deliveries_processed', ['processedAt'])
/** Retention: finished rows past the body window that still have a body (stripped ones drop out). */
@Index('ix_webhook_deliveries_processed_with_body', ['processedAt'], {
  where: '"body" IS NOT NULL',
})
/** Purge: the deliveries routed to a connection. */
@Index('ix_webhook_deliveries_connection_ids', ['connectionIds'], { type: 'gin' })
export class WebhookDelivery {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'PK_webhook_deliveries' })
  id: string;

  @Column('text')
  provider: string;

  @Column('text', { name: 'delivery_id' })
  deliveryId: string;

  @Column('timestamptz', { name: 'received_at', default: () => 'now()' })
  receivedAt: Date;

  @Column('text', { default: 'received' })
  status: WebhookDeliveryStatus;

  /** The headers the provider's parser needs (never Authorization or signatures' secrets). */
  @Column('jsonb', { default: () => "'{}'" })
  headers: Record<string, string>;

  /** NULL once retention stripped it (finished rows only; '' is a real, empty body). */
  @Column('text', { nullable: true })
  body: string | null;

  @Column('integer', { default: 0 })
  attempts: number;

  @Column('timestamptz', { name: 'processed_at', nullable: true })
  processedAt: Date | null;

  @Column('text', { nullable: true })
  error: string | null;

  /** The connections the worker routed this delivery to (set when it finishes); for purges. */
  @Column('uuid', { name: 'connection_ids', array: true, default: () => "'{}'" })
  connectionIds: string[];
}
