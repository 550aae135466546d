import { UnrecoverableError } from 'bullmq';
import type { ProviderError } from '../providers/errors/provider-error.js';

export type SyncDecision =
  | { action: 'delay'; until: Date }
  | { action: 'retry' }
  | { action: 'reauth' }
  | { action: 'reset-cursor' }
  | { action: 'skip-resource'; status: 'permission' | 'not_found' }
  | { action: 'fail' };

/**
 * The one place that decides what a provider failure means for a sync (STYLE.md: one policy).
 * RATE_LIMITED waits for the provider's time without holding a worker slot; TEMPORARY and UNKNOWN
 * retry with backoff (bounded by the job's attempts); AUTH_REVOKED asks the user to reconnect;
 * CURSOR_INVALID restarts that resource from scratch; PERMISSION/NOT_FOUND affect one resource.
 */
export function decide(error: ProviderError): SyncDecision {
  switch (error.code) {
    case 'RATE_LIMITED':
      return { action: 'delay', until: error.retryAt ?? new Date(Date.now() + 60_000) };
    case 'TEMPORARY':
    case 'UNKNOWN':
      return { action: 'retry' };
    case 'AUTH_REVOKED':
      return { action: 'reauth' };
    case 'CURSOR_INVALID':
      return { action: 'reset-cursor' };
    case 'PERMISSION':
      return { action: 'skip-resource', status: 'permission' };
    case 'NOT_FOUND':
      return { action: 'skip-resource', status: 'not_found' };
    default:
      return { action: 'fail' };
  }
}

/** Exponential backoff with full jitter for TEMPORARY failures: 5 s, 10 s, 20 s ... capped at 10 min. */
export function backoffDelay(attemptsMade: number, random: () => number = Math.random): number {
  const base = Math.min(600_000, 5_000 * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(base / 2 + (random() * base) / 2);
}

export class PermanentSyncError extends UnrecoverableError {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}
