import { withTimeout } from '../runtime/with-timeout.js';

/** Redis did not answer a queue command in time (it is down or failing over). */
export class QueueTimeoutError extends Error {
  override readonly name = 'QueueTimeoutError';
}

/** How long a request waits on the queue before answering 503 (BullMQ retries forever). */
export const QUEUE_TIMEOUT_MS = 1_500;

/**
 * Settles with `work`, or rejects with QueueTimeoutError after `ms`. BullMQ connections queue
 * commands while Redis is away, so without this an HTTP request would hang until Redis returns.
 * The work itself is not cancelled: callers make it idempotent (fixed job ids, deduplication).
 */
export function withQueueTimeout<T>(work: Promise<T>, ms = QUEUE_TIMEOUT_MS): Promise<T> {
  return withTimeout(work, ms, () => new QueueTimeoutError('Queue did not answer'));
}
