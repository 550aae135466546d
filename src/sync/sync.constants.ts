export const SYNC_QUEUE = 'sync';

/** Job names on the sync queue. */
export const SYNC_JOB = {
  /** Produced by the per-connection job scheduler; turns into a deduplicated `run`. */
  tick: 'tick',
  run: 'run',
} as const;

export type SyncTrigger = 'schedule' | 'manual' | 'webhook' | 'connect';

/** Ids only: never credentials (job payloads carry ids only, docs/architecture.md). */
export interface SyncJobData {
  connectionId: string;
  syncRunId?: string;
  mode: 'full' | 'incremental';
  trigger: SyncTrigger;
  /** Limit the run to these resources (webhook "resource R changed"); all when absent. */
  resourceIds?: string[];
  /** Runs of requests this one answers (merged follow-ups): they end with this run's outcome. */
  coveredRunIds?: string[];
}

/** BullMQ ids may not contain ':'; connection ids are uuids, so this is safe. */
export const schedulerId = (connectionId: string): string => `sync-${connectionId}`;

export const DEFAULT_SYNC_ATTEMPTS = 6;

/**
 * Emitted (in-process) when a listing no longer contains resources the connection used to sync
 * (a board the member left, a calendar the user hid): Webhooks stops their subscriptions.
 */
export const RESOURCES_REMOVED_EVENT = 'sync.resources_removed';

export interface ResourcesRemovedEvent {
  connectionId: string;
  provider: string;
  resourceIds: string[];
}

/**
 * Emitted (in-process, awaited with emitAsync) by the sync processor when a run ends: the
 * connection-health module opens and resolves issues from them. Ids and words only.
 */
export const SYNC_RUN_EVENTS = {
  /** A run reached its end (succeeded or partial). */
  finished: 'sync.run_finished',
  /** A run failed for good (attempts exhausted or unrecoverable). */
  failed: 'sync.run_failed',
  /** A run was parked by a rate limit until `until`. */
  delayed: 'sync.run_delayed',
} as const;

export interface SyncRunEvent {
  connectionId: string;
  syncRunId: string;
  outcome?: string;
  errorCode?: string;
  errorMessage?: string;
  until?: Date;
}
