import type { SandboxAccount } from '../sandbox/google-calendar/index.js';
import { GOOGLE_CALENDAR_CATALOG } from '../src/providers/google-calendar/google-calendar.catalog.js';
import { connectThroughConsent } from '../test/harness/connect.js';
import { eventually } from '../test/harness/ports.js';
import { cpuDelta, cpuSnapshot, inParallel, pendingJobs, secs, sleep, type Rig } from './kit.js';

/**
 * P6: many connections whose scheduled syncs find nothing new, the common case of a deployment.
 * `count` Google accounts (one PDeck user each, 1-5 events in the primary calendar) connected
 * through the real consent flow, their initial full syncs done; then an incremental sync of
 * every connection requested at once through the public API, timed until the last run finished.
 */

/** Parallel consents (and sync requests) in flight: enough to keep the API busy. */
const PARALLEL = 16;

/**
 * The service's budget of Google API requests shared by every connection (the project's quota,
 * google-calendar.catalog.ts): 5,000 a minute.
 */
const APP_BUDGET = GOOGLE_CALENDAR_CATALOG.rateBudgets.find((b) => b.scope === 'app')!;

/** Most Google API requests of one no-change sync (calendarList.list, events.list, a spare). */
const CALLS_PER_QUIET_SYNC = 3;

/** Requests the Google fake answered so far (OAuth and Calendar API). */
const googleRequests = (rig: Rig) => (rig.google.stats().requests as { total: number }).total;

/**
 * Whether the service's Google budget has room for `calls` more requests now: the fake's
 * request log reaches back a whole window and holds few enough Calendar API requests in it. The
 * log has answer times, a little later than the service's admissions, so this errs on the safe
 * side.
 */
function budgetRoom(rig: Rig, calls: number): boolean {
  const since = Date.now() - APP_BUDGET.windowMs;
  const log = rig.google.server.log.recent(Number.MAX_SAFE_INTEGER);
  const covers = googleRequests(rig) === log.length || Date.parse(log[0].at) < since;
  const recent = log.filter((r) => r.path.startsWith('/calendar/') && Date.parse(r.at) >= since);
  return covers && recent.length + calls <= APP_BUDGET.limit;
}

/** The sandbox accounts P6 connects, given to the Google fake when the rig starts. */
export function quietAccounts(count: number): SandboxAccount[] {
  return Array.from({ length: count }, (_, i) => ({
    email: `quiet-${String(i + 1).padStart(4, '0')}@example.com`,
    name: `Quiet ${i + 1}`,
    timeZone: 'UTC',
  }));
}

export interface QuietSetup {
  connectionIds: string[];
  /** Events across the calendars, all stored as items by the full syncs. */
  events: number;
  /** Consents, full syncs and their schedulers' first ticks, until the rig was quiet again. */
  setupMs: number;
  /** Consents tried again because the Google budget was spent (see connectAccount). */
  retries: number;
  /** Waited after the set-up for room in the Google budget (see budgetRoom). */
  budgetWaitMs: number;
  /**
   * Runs left `queued` with no job behind them once the queues were empty: a follow-up that
   * nobody started (SyncTriggerService writes a follow-up before it reads the running job's
   * state again, so there should be none; earlier versions stranded 3-7% of the first schedule
   * ticks). Such a run starts when the connection's next run completes, i.e. during the
   * measurement, which therefore waits for these runs too; the figure reports their count.
   */
  strandedRunIds: string[];
}

/** Runs of these connections by state, and their succeeded full syncs. */
async function runStates(rig: Rig, connectionIds: string[]) {
  const [row] = await rig.cluster.pg.query<{
    queued: string[];
    running: number;
    connected: number;
  }>(
    `SELECT coalesce(array_agg(id::text) FILTER (WHERE status = 'queued'), '{}') AS queued,
       (count(*) FILTER (WHERE status = 'running'))::int AS running,
       (count(*) FILTER (WHERE trigger = 'connect' AND status = 'succeeded'))::int AS connected
     FROM sync_runs WHERE connection_id = ANY($1)`,
    [connectionIds],
  );
  return row;
}

/**
 * One consent. Every connect spends a few Google requests (the account, the calendar list, the
 * first sync, the push channel) from the service's Google budget for the whole app (5,000
 * requests a minute, the project quota), so a thousand consents in a minute run out of it and
 * the callback ends in `provider_unavailable`; that consent is tried again a second later, as
 * the user would, and `onRetry` counts it.
 */
async function connectAccount(
  rig: Rig,
  userId: string,
  email: string,
  onRetry: () => void,
): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectThroughConsent(rig.cluster, 'google-calendar', userId, {
        account: email,
      });
    } catch (error) {
      if (attempt >= 60 || !String(error).includes('error=provider_unavailable')) throw error;
      onRetry();
      await sleep(1_000);
    }
  }
}

/**
 * Seeds 1-5 events in the primary calendar of each of the first `count` quiet accounts (the rig
 * must have been started with them), connects every account (PARALLEL at a time) and waits
 * until every full sync succeeded and nothing is left in the sync or webhook queues (the first
 * tick of each new schedule, the calendars' `sync` push messages); then, if needed, until the
 * service's Google budget has room for every request of the measurement, so that P6 measures
 * the workers rather than that rate limit.
 */
export async function connectQuiet(rig: Rig, count: number): Promise<QuietSetup> {
  const { cluster, google } = rig;
  const accounts = quietAccounts(count);
  const started = Date.now();
  let events = 0;
  accounts.forEach(({ email }, i) => {
    google.seedLarge(email, 'primary', 1 + (i % 5));
    events += 1 + (i % 5);
  });
  let retries = 0;
  const connectionIds = await inParallel(accounts, PARALLEL, ({ email }, i) =>
    connectAccount(rig, `bench-quiet-${i + 1}`, email, () => void (retries += 1)),
  );
  // Quiet = every full sync succeeded, nothing running, no job waiting in either queue, twice
  // in a row (a job's `completed` handler may still be adding its follow-up).
  let quietChecks = 0;
  const { queued: strandedRunIds } = await eventually(
    async () => {
      const states = await runStates(rig, connectionIds);
      const jobs = (await pendingJobs(rig, 'sync')) + (await pendingJobs(rig, 'webhooks'));
      const quiet = states.connected === count && states.running === 0 && jobs === 0;
      quietChecks = quiet ? quietChecks + 1 : 0;
      return quietChecks >= 2 ? states : undefined;
    },
    `${count} full syncs to finish`,
    600_000,
    250,
  );
  const [{ n }] = await cluster.pg.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM items WHERE connection_id = ANY($1) AND deleted_at IS NULL',
    [connectionIds],
  );
  if (n !== events) throw new Error(`the full syncs stored ${n} items, expected ${events}`);
  const setupMs = Date.now() - started;
  await eventually(
    () => (budgetRoom(rig, count * CALLS_PER_QUIET_SYNC) ? true : undefined),
    'room in the Google budget',
    2 * APP_BUDGET.windowMs,
    250,
  );
  const budgetWaitMs = Date.now() - started - setupMs;
  return { connectionIds, events, setupMs, retries, budgetWaitMs, strandedRunIds };
}

export interface QuietSyncResult {
  /** Runs finished: one requested per connection, plus the stranded follow-ups they released. */
  syncs: number;
  requested: number;
  /** Requests the Google fake answered per sync. */
  googleCallsPerSync: number;
  /** From the first request sent to the last run's finished_at. */
  ms: number;
  syncsPerSecond: number;
  /** CPU ms per sync by process (api, worker-1, worker-2, postgres, redis, bench). */
  cpuMsPerSync: Record<string, number>;
}

/**
 * Requests an incremental sync of every connection (`POST /v1/connections/:id/sync`, PARALLEL
 * requests in flight) and waits for those runs and the stranded follow-ups they release; each
 * must succeed having stored nothing.
 */
export async function noChangeSyncs(rig: Rig, setup: QuietSetup): Promise<QuietSyncResult> {
  const { cluster } = rig;
  const { connectionIds, strandedRunIds } = setup;
  const before = cpuSnapshot(rig);
  const callsBefore = googleRequests(rig);
  const started = Date.now();
  const runIds = await inParallel(connectionIds, PARALLEL, async (id) => {
    const res = await cluster.request(`/v1/connections/${id}/sync`, {
      method: 'POST',
      body: JSON.stringify({ mode: 'incremental' }),
    });
    if (res.status !== 202) throw new Error(`sync request: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { syncRunId: string }).syncRunId;
  });
  const allRunIds = [...runIds, ...strandedRunIds];
  const done = await eventually(
    async () => {
      const [row] = await cluster.pg.query<{
        pending: number;
        failed: number;
        changed: number;
        lastMs: number;
      }>(
        `SELECT (count(*) FILTER (WHERE status IN ('queued', 'running')))::int AS pending,
           (count(*) FILTER (WHERE status <> 'succeeded' OR mode <> 'incremental'))::int AS failed,
           coalesce(sum(upserted + deleted), 0)::int AS changed,
           (EXTRACT(EPOCH FROM max(finished_at)) * 1000)::float8 AS "lastMs"
         FROM sync_runs WHERE id = ANY($1)`,
        [allRunIds],
      );
      return row.pending === 0 ? row : undefined;
    },
    `${allRunIds.length} incremental syncs to finish`,
    600_000,
    50,
  );
  const cpu = cpuDelta(before, cpuSnapshot(rig), allRunIds.length);
  const googleCallsPerSync = (googleRequests(rig) - callsBefore) / allRunIds.length;
  if (new Set(runIds).size !== connectionIds.length)
    throw new Error('some sync requests joined another run');
  if (done.failed > 0) throw new Error(`${done.failed} incremental syncs did not succeed`);
  if (done.changed > 0) throw new Error(`the no-change syncs changed ${done.changed} items`);
  const ms = done.lastMs - started;
  console.log(
    `[P6] ${runIds.length} requested + ${strandedRunIds.length} stranded follow-up syncs in ` +
      `${secs(ms)} s, ${googleCallsPerSync.toFixed(1)} Google requests and CPU ms ` +
      `${JSON.stringify(cpu)} per sync`,
  );
  return {
    syncs: allRunIds.length,
    requested: runIds.length,
    googleCallsPerSync,
    ms,
    syncsPerSecond: (allRunIds.length / ms) * 1000,
    cpuMsPerSync: cpu,
  };
}
