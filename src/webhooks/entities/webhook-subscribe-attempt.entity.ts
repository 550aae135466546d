import {
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { Connection } from '../../auth/entities/connection.entity.js';

/**
 * `pending`: a subscribe call to the provider is under way (a delivery for this resource may
 * arrive before the provider has answered). `failed`: the last call failed; retried from
 * `next_attempt_at` on (exponential backoff). `unsupported`: the provider offers no subscription
 * for this resource (Google's holiday calendars); tried again only on reconnect.
 */
export type SubscribeAttemptStatus = 'pending' | 'failed' | 'unsupported';

/**
 * A resource of a connection that has no subscription yet, and why. The row goes away once the
 * subscription exists (webhook_subscriptions holds only subscriptions that exist at the
 * provider). `resource_id` '' stands for the connection's resource listing itself.
 */
@Entity({ name: 'webhook_subscribe_attempts' })
@Index('ix_webhook_subscribe_attempts_resource', ['provider', 'resourceId'])
export class WebhookSubscribeAttempt {
  @PrimaryColumn('uuid', {
    name: 'connection_id',
    primaryKeyConstraintName: 'PK_webhook_subscribe_attempts',
  })
  connectionId: string;

  /** ON DELETE CASCADE: the row goes with its connection. Never loaded. */
  @ManyToOne('Connection', { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'connection_id',
    foreignKeyConstraintName: 'fk_webhook_subscribe_attempts_connection',
  })
  connection?: Pick<Connection, 'id'>;

  @PrimaryColumn('text', {
    name: 'resource_id',
    primaryKeyConstraintName: 'PK_webhook_subscribe_attempts',
  })
  resourceId: string;

  @Column('text')
  provider: string;

  /** The URL the (last) subscribe call registered. */
  @Column('text', { name: 'callback_url' })
  callbackUrl: string;

  @Column('text')
  status: SubscribeAttemptStatus;

  /** Consecutive failures; decides the backoff. */
  @Column('integer', { default: 0 })
  failures: number;

  /** `<code>: <message>` of the last failure (the provider error, never a token). */
  @Column('text', { name: 'last_error', nullable: true })
  lastError: string | null;

  @Column('timestamptz', { name: 'started_at' })
  startedAt: Date;

  @Column('timestamptz', { name: 'next_attempt_at', nullable: true })
  nextAttemptAt: Date | null;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
