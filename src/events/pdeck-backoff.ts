import type { BackoffStrategy } from 'bullmq';
import {
  BACKOFF_JITTER,
  DEFAULT_BACKOFF_BASE_MS,
  MAX_BACKOFF_MS,
  PDECK_BACKOFF_TYPE,
} from './events.constants.js';

/**
 * Thrown by the processor when PDeck answered with Retry-After. It still counts as an attempt
 * (so a PDeck that keeps answering 429 cannot keep a job alive forever), and the backoff
 * strategy waits at least the requested time. Chosen over job.moveToDelayed + DelayedError,
 * which in BullMQ does not count the attempt (skipAttempt) and would need its own loop bound.
 */
export class RetryAfterError extends Error {
  override readonly name = 'RetryAfterError';
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/**
 * Delay before retry number `attemptsMade` (1 = after the first failure): base × 2^(n-1),
 * capped at MAX_BACKOFF_MS, then ±20 % jitter.
 */
export function pdeckBackoffDelay(
  attemptsMade: number,
  baseMs: number,
  random: () => number = Math.random,
): number {
  const nominal = Math.min(baseMs * 2 ** Math.max(0, attemptsMade - 1), MAX_BACKOFF_MS);
  const factor = 1 - BACKOFF_JITTER + 2 * BACKOFF_JITTER * random();
  return Math.round(nominal * factor);
}

/**
 * The Worker's custom strategy (settings.backoffStrategy), used for jobs whose backoff type is
 * PDECK_BACKOFF_TYPE. The base delay travels in job.opts.backoff.delay, set by the notifier
 * from an injectable value: the @Processor decorator is static and cannot receive providers.
 */
export const pdeckBackoffStrategy: BackoffStrategy = (attemptsMade, type, err, job) => {
  const backoff = job?.opts.backoff;
  const baseMs =
    typeof backoff === 'object' && backoff.delay !== undefined
      ? backoff.delay
      : DEFAULT_BACKOFF_BASE_MS;
  if (type !== undefined && type !== PDECK_BACKOFF_TYPE) {
    // Not ours (no other queue uses this worker), but fail loudly rather than guess.
    throw new Error(`Unknown backoff strategy ${type}`);
  }
  const delay = pdeckBackoffDelay(attemptsMade, baseMs);
  const retryAfterMs = (err as Partial<RetryAfterError> | undefined)?.retryAfterMs;
  return typeof retryAfterMs === 'number'
    ? Math.max(delay, Math.min(retryAfterMs, MAX_BACKOFF_MS))
    : delay;
};
