import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { Connection } from '../../auth/entities/connection.entity.js';

export type WebhookSubscriptionStatus = 'active' | 'stopped' | 'failed';

/**
 * A subscription we created at a provider (Google channel, Trello webhook, Jira dynamic webhook).
 * `secret` (e.g. the Google channel token) is encrypted bound to this row.
 */
@Entity({ name: 'webhook_subscriptions' })
@Index('uq_webhook_subscriptions_provider_external', ['provider', 'externalId'], { unique: true })
@Index('ix_webhook_subscriptions_connection', ['connectionId'])
/** Routing by watched resource: Trello deliveries name the board (verify and parse). */
@Index('ix_webhook_subscriptions_resource', ['provider', 'resourceId'])
@Index('ix_webhook_subscriptions_expires', ['status', 'expiresAt'])
export class WebhookSubscription {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'PK_webhook_subscriptions' })
  id: string;

  @Column('uuid', { name: 'connection_id' })
  connectionId: string;

  /** ON DELETE CASCADE (migration 1796800000000): the row goes with its connection. Never loaded. */
  @ManyToOne('Connection', { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'connection_id',
    foreignKeyConstraintName: 'fk_webhook_subscriptions_connection',
  })
  connection?: Pick<Connection, 'id'>;

  @Column('text')
  provider: string;

  /** Our resource (calendar id, board id, site id). */
  @Column('text', { name: 'resource_id' })
  resourceId: string;

  /** The provider's id of the subscription (channel id, webhook id). */
  @Column('text', { name: 'external_id' })
  externalId: string;

  /** Provider-side resource id returned at subscribe time (Google X-Goog-Resource-ID). */
  @Column('text', { name: 'external_resource_id', nullable: true })
  externalResourceId: string | null;

  @Column('text', { nullable: true })
  secret: string | null;

  @Column('text', { name: 'callback_url' })
  callbackUrl: string;

  @Column('timestamptz', { name: 'expires_at', nullable: true })
  expiresAt: Date | null;

  @Column('text', { default: 'active' })
  status: WebhookSubscriptionStatus;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
