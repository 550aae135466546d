import type { JobsOptions } from 'bullmq';

/** How often the retention job schedulers run (one scheduler per table owner, per deployment). */
export const RETENTION_EVERY_MS = 3_600_000;

/**
 * Finished retention jobs: a week of hourly passes (their return values say what each removed),
 * bounded by count and age like every job of the service.
 */
export const RETENTION_JOB_OPTIONS = {
  removeOnComplete: { age: 7 * 86_400, count: 200 },
  removeOnFail: { age: 7 * 86_400, count: 200 },
} as const satisfies JobsOptions;
