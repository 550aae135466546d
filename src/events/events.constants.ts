import type { InjectionToken } from '@nestjs/common';

/** BullMQ queue carrying outbound notifications to PDeck (one job per event). */
export const PDECK_EVENTS_QUEUE = 'pdeck-events';

/**
 * Base delay of the retry backoff, in ms. A token rather than a NODE_ENV branch so tests can make
 * retries fast (overrideProvider) while production keeps the default.
 */
export const PDECK_EVENTS_BACKOFF_BASE_MS: InjectionToken<number> = Symbol(
  'PDECK_EVENTS_BACKOFF_BASE_MS',
);
export const DEFAULT_BACKOFF_BASE_MS = 10_000;
/** Cap of a single retry delay (before jitter). */
export const MAX_BACKOFF_MS = 3_600_000;
/** ±20 %: spreads retries of many events failing together so they do not hit PDeck in waves. */
export const BACKOFF_JITTER = 0.2;
/**
 * 15 attempts = 14 retries. With the 10 s base the nominal delays are 10 s, 20 s, ... 2560 s
 * (≈ 85 min for the first 9), then 5 × 1 h: 23 110 s ≈ 6 h 25 min in total (±20 % jitter, so
 * ≈ 5 h 08 min to 7 h 42 min), plus up to 10 s per attempt. Long enough to ride out a PDeck
 * deploy or outage; after that the job stays in "failed" (the dead letter) for manual retry.
 */
export const PDECK_EVENTS_ATTEMPTS = 15;
/** Name of the custom strategy in job.opts.backoff; resolved by the Worker's settings. */
export const PDECK_BACKOFF_TYPE = 'pdeck-exponential';
/** Per-request timeout of a delivery. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/** How often an idle outbox relay looks for committed events (the notification latency bound). */
export const OUTBOX_POLL_MS = 250;
/** Events per relay transaction; a full batch is followed by the next one at once. */
export const OUTBOX_BATCH = 200;
/** A queueing that takes longer is treated as Redis being away (the rows stay, retried later). */
export const OUTBOX_ENQUEUE_TIMEOUT_MS = 5_000;
/** Cap of the relay's retry delay while Postgres or Redis fails (doubling from the poll). */
export const OUTBOX_MAX_RETRY_MS = 5_000;
/** Postgres advisory lock held by the one relay running at a time ("PDEV" in ASCII). */
export const OUTBOX_RELAY_LOCK_ID = 0x5044_4556;
