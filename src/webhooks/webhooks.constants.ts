import type { InjectionToken } from '@nestjs/common';

export const WEBHOOKS_QUEUE = 'webhooks';
export const WEBHOOK_SUBSCRIPTIONS_QUEUE = 'webhook-subscriptions';

/** Public route prefix of the receiver; the callback URL of a provider is PUBLIC_URL + this + id. */
export const WEBHOOKS_PATH = '/v1/webhooks';

/** Job names on the subscriptions queue. */
export const SUBSCRIPTION_JOB = {
  /** Subscribe every resource of one connection (after connect / reconnect). */
  subscribe: 'subscribe',
  /** Produced by the 'webhook-renewals' scheduler: find due subscriptions, queue `renew` each. */
  renewDue: 'renew-due',
  renew: 'renew',
} as const;

export const RENEWALS_SCHEDULER_ID = 'webhook-renewals';
export const RENEWALS_EVERY_MS = 10 * 60_000;

/** Ids only in job data (docs/architecture.md): the body and secrets stay in Postgres. */
export interface WebhookJobData {
  deliveryId: string;
}

export interface SubscriptionJobData {
  connectionId?: string;
  subscriptionId?: string;
  /** Renew by creating a new subscription even where the provider can extend one (it is gone). */
  replace?: boolean;
}

/** Deliveries still `received` this long after arrival are re-enqueued by the sweeper. */
export const SWEEP_AFTER_MS = 30_000;
export const SWEEP_EVERY_MS = 15_000;
export const PROCESS_ATTEMPTS = 5;
/** Renew when expiry is closer than this, unless the provider says otherwise. */
export const DEFAULT_RENEW_BEFORE_MS = 24 * 3600_000;

/** The time source of the webhook module (replay windows, renewals, sweeps). */
export interface Clock {
  now(): Date;
}

export const CLOCK: InjectionToken<Clock> = Symbol('CLOCK');

export const systemClock: Clock = { now: () => new Date() };
