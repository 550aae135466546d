import { UnrecoverableError } from 'bullmq';
import type { ProviderError } from '@pdeck/integration-sdk';

export type SyncDecision =
  | { action: 'delay'; until: Date }
  | { action: 'retry' }
  | { action: 'reauth' }
  | { action: 'reset-cursor' }
  | { action: 'skip-resource'; status: 'permission' | 'not_found' };

/**
 * The one place that decides what a provider failure means for a sync. RATE_LIMITED waits for
 * the provider's time without holding a worker slot; CURSOR_INVALID restarts that resource from
 * scratch; AUTH_REVOKED asks the user to reconnect; the other permanent failures (PERMISSION,
 * NOT_FOUND) concern one resource, which is skipped; TEMPORARY and UNKNOWN retry with backoff
 * (bounded by the job's attempts).
 */
export function decide(error: ProviderError): SyncDecision {
  switch (error.code) {
    case 'RATE_LIMITED':
      return { action: 'delay', until: error.retryAt ?? new Date(Date.now() + 60_000) };
    case 'CURSOR_INVALID':
      return { action: 'reset-cursor' };
    case 'AUTH_REVOKED':
      return { action: 'reauth' };
  }
  if (error.permanent) {
    return {
      action: 'skip-resource',
      status: error.code === 'PERMISSION' ? 'permission' : 'not_found',
    };
  }
  return { action: 'retry' };
}

/** In words, for run reports: what a failure that skipped or failed a resource means. */
export function describeFailure(error: ProviderError): string {
  switch (error.code) {
    case 'NOT_FOUND':
      return 'it no longer exists, or this account can no longer see it';
    case 'PERMISSION':
      return 'this account is not allowed to read it';
    case 'AUTH_REVOKED':
      return 'the provider no longer accepts this connection; the user must reconnect';
    case 'CURSOR_INVALID':
      return 'the provider rejected the sync position even after a full resync';
    case 'RATE_LIMITED':
      return 'the provider rate-limited the request';
    case 'TEMPORARY':
      return 'the provider was unreachable or failing';
    default:
      return 'the provider answered with an unexpected error';
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
