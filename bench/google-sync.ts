import { connectThroughConsent } from '../test/harness/connect.js';
import { eventually } from '../test/harness/ports.js';
import { finishedRun, peakRssMb, restartWorkers, workerOf, type Rig, type RunRow } from './kit.js';

/** One full sync of a freshly seeded calendar through the real connect flow (P1, P1m). */
export interface FullSyncResult {
  connectionId: string;
  events: number;
  run: RunRow;
  /** From the authorize call to the run's finish, as seen by the bench (context). */
  wallMs: number;
  /** VmHWM of the worker that ran the sync, read right after it finished. */
  peakRssMb: number;
  workerPid: number;
}

/**
 * Seeds `events` generated events in the account's primary calendar, restarts the workers (so
 * each one's VmHWM covers this sync only), connects through the consent flow (the connect
 * enqueues the full sync) and waits for the `trigger='connect'` run.
 */
export async function fullSync(
  rig: Rig,
  email: string,
  userId: string,
  events: number,
): Promise<FullSyncResult> {
  const { cluster, google } = rig;
  google.seedLarge(email, 'primary', events);
  await restartWorkers(cluster);
  const started = Date.now();
  const connectionId = await connectThroughConsent(cluster, 'google-calendar', userId, {
    account: email,
  });
  const run = await finishedRun(
    cluster,
    "connection_id = $1 AND trigger = 'connect'",
    [connectionId],
    420_000,
  );
  const wallMs = Date.now() - started;
  const worker = workerOf(cluster, run.id);
  const rss = peakRssMb(worker.pid!);
  const [{ n }] = await cluster.pg.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM items WHERE connection_id = $1 AND deleted_at IS NULL',
    [connectionId],
  );
  if (n !== events) throw new Error(`full sync stored ${n} items, expected ${events}`);
  return { connectionId, events, run, wallMs, peakRssMb: rss, workerPid: worker.pid! };
}

/** Waits until no sync of the connection is queued or running (e.g. the first schedule tick). */
async function connectionIdle(rig: Rig, connectionId: string): Promise<void> {
  await eventually(
    async () => {
      const [{ n }] = await rig.cluster.pg.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM sync_runs
         WHERE connection_id = $1 AND status IN ('queued', 'running')`,
        [connectionId],
      );
      return n === 0 ? true : undefined;
    },
    'no sync of the connection in flight',
    60_000,
  );
}

export interface IncrementalResult {
  changed: number;
  run: RunRow;
  wallMs: number;
}

/**
 * P4: changes `changed` events of the synced calendar at the provider, then asks for an
 * incremental sync and times that run, which must upsert exactly the changed events.
 */
export async function incrementalSync(
  rig: Rig,
  email: string,
  connectionId: string,
  changed: number,
): Promise<IncrementalResult> {
  const { cluster, google } = rig;
  const picked = await cluster.pg.query<{ external_id: string }>(
    `SELECT external_id FROM items WHERE connection_id = $1 AND deleted_at IS NULL
     ORDER BY change_seq LIMIT $2`,
    [connectionId, changed],
  );
  await connectionIdle(rig, connectionId);
  // The service watches the calendar (push channel), so each change would start a sync of its
  // own and the measured run could find nothing left to do. P4 is "the incremental sync after
  // 10 changes" (P3 covers the webhook path): the fake's pushes are muted while they are made.
  const notify = google.channels.notify;
  google.channels.notify = () => 0;
  try {
    for (const [i, { external_id }] of picked.entries()) {
      const eventId = external_id.slice(email.length + 1);
      google.updateEvent(email, 'primary', eventId, { summary: `bench change ${i}` });
    }
  } finally {
    google.channels.notify = notify;
  }
  const started = Date.now();
  const response = await cluster.request(`/v1/connections/${connectionId}/sync`, {
    method: 'POST',
    body: JSON.stringify({ mode: 'incremental' }),
  });
  if (response.status !== 202) throw new Error(`sync request: ${response.status}`);
  const { syncRunId } = (await response.json()) as { syncRunId: string };
  const run = await finishedRun(cluster, 'id = $1', [syncRunId], 120_000);
  const wallMs = Date.now() - started;
  if (run.mode !== 'incremental') throw new Error(`run ${run.id} was ${run.mode}`);
  if (run.upserted !== changed)
    throw new Error(`incremental run upserted ${run.upserted}, expected ${changed}`);
  return { changed, run, wallMs };
}
