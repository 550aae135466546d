/**
 * A connection's health, derived from facts only (its status, its pause, its recent sync runs and
 * its schedule): nothing here is stored, so it can never disagree with the history it describes.
 */
export const HEALTH_STATES = [
  'healthy',
  'syncing',
  'late',
  'failing',
  'needs_reauth',
  'paused',
] as const;
export type HealthState = (typeof HEALTH_STATES)[number];

export interface ConnectionHealth {
  state: HealthState;
  /** Why, in plain words, for people (PDeck's UI, the operator console). */
  reason: string;
  /** When this state began (ISO 8601): the last success, the first failure of a streak, ... */
  since: string | null;
}

/** The last runs that failed in a row before this many: the connection is failing. */
export const FAILING_STREAK = 3;

/** What deriveHealth needs to know about one connection; one query reads it for a page. */
export interface HealthFacts {
  status: string;
  createdAt: Date;
  /** When the connection entered its current status (needs_reauth: when the grant died). */
  statusSince: Date | null;
  pausedAt: Date | null;
  pausedReason: string | null;
  /** Minutes between scheduled syncs: the connection's override, else the catalog's. */
  intervalMinutes: number;
  /** A run is queued or running now. */
  runActive: boolean;
  /** When the last run that reached its end (succeeded or partial) finished. */
  lastSuccessAt: Date | null;
  /** Outcomes of the last finished runs, newest first (at least FAILING_STREAK when there are). */
  recentOutcomes: ('succeeded' | 'partial' | 'failed')[];
  /** When the first run of the current streak of failures finished; null without a streak. */
  failingSince: Date | null;
  /** The error of the newest failed run, in words. */
  lastError: string | null;
}

const iso = (d: Date | null): string | null => d?.toISOString() ?? null;

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} hours`;
  return `${Math.round(hours / 24)} days`;
}

/**
 * The rules, first match wins: paused; needs_reauth; any other status than active (nothing
 * syncs); the last FAILING_STREAK runs failed, or no success for more than twice the interval:
 * failing; a run under way after a success (or before the first one): syncing; no success for
 * more than the interval: late; else healthy. Partial runs count as successes: they reached
 * their end, and the resources they skipped are reported on their own.
 */
export function deriveHealth(f: HealthFacts, now: Date): ConnectionHealth {
  if (f.pausedAt) {
    return {
      state: 'paused',
      reason: `Paused: ${f.pausedReason ?? 'no reason given'}. Nothing syncs until it is resumed.`,
      since: iso(f.pausedAt),
    };
  }
  if (f.status === 'needs_reauth') {
    return {
      state: 'needs_reauth',
      reason: 'The account must be reconnected: the provider no longer accepts its grant.',
      since: iso(f.statusSince),
    };
  }
  if (f.status !== 'active') {
    return {
      state: 'paused',
      reason: `The connection is ${f.status}: nothing syncs.`,
      since: iso(f.statusSince),
    };
  }
  const intervalMs = f.intervalMinutes * 60_000;
  const reference = f.lastSuccessAt ?? f.createdAt;
  const quietMs = now.getTime() - reference.getTime();
  const lastFailed = f.recentOutcomes[0] === 'failed';
  const streak =
    f.recentOutcomes.length >= FAILING_STREAK &&
    f.recentOutcomes.slice(0, FAILING_STREAK).every((o) => o === 'failed');
  const error = f.lastError ? ` Last error: ${f.lastError}` : '';
  if (streak) {
    return {
      state: 'failing',
      reason: `The last ${FAILING_STREAK} syncs failed.${error}`,
      since: iso(f.failingSince),
    };
  }
  if (quietMs > 2 * intervalMs) {
    return {
      state: 'failing',
      reason: f.lastSuccessAt
        ? `No successful sync for ${duration(quietMs)} (it syncs every ${duration(intervalMs)}).${error}`
        : `No successful sync since it was connected ${duration(quietMs)} ago.${error}`,
      since: iso(lastFailed && f.failingSince ? f.failingSince : reference),
    };
  }
  if (f.runActive && !lastFailed) {
    return {
      state: 'syncing',
      reason: f.lastSuccessAt ? 'A sync is under way.' : 'The first sync is under way.',
      since: iso(f.lastSuccessAt),
    };
  }
  if (quietMs > intervalMs) {
    return {
      state: 'late',
      reason: `No successful sync for ${duration(quietMs)} (it syncs every ${duration(intervalMs)}).${error}`,
      since: iso(reference),
    };
  }
  if (lastFailed) {
    return {
      state: 'healthy',
      reason: f.runActive
        ? 'The last sync failed; another is under way.'
        : 'The last sync failed; the next one is scheduled.',
      since: iso(f.lastSuccessAt),
    };
  }
  return {
    state: 'healthy',
    reason: f.lastSuccessAt ? 'Synced on schedule.' : 'Waiting for the first sync.',
    since: iso(f.lastSuccessAt),
  };
}
