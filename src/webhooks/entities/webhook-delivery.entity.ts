import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type WebhookDeliveryStatus = 'received' | 'processed' | 'ignored' | 'unroutable' | 'failed';

/**
 * A verified delivery, stored before it is acknowledged: the unique (provider, delivery_id) is the
 * durable dedupe, and the stored raw body is what the worker processes (jobs carry the row id only).
 */
@Entity({ name: 'webhook_deliveries' })
@Index('uq_webhook_deliveries_provider_delivery', ['provider', 'deliveryId'], { unique: true })
@Index('ix_webhook_deliveries_status_received', ['status', 'receivedAt'])
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

  @Column('text')
  body: string;

  @Column('integer', { default: 0 })
  attempts: number;

  @Column('timestamptz', { name: 'processed_at', nullable: true })
  processedAt: Date | null;

  @Column('text', { nullable: true })
  error: string | null;
}
