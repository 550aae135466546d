import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleCalendarFake } from '../../sandbox/google-calendar/google-calendar.fake.js';
import { Cluster } from '../harness/cluster.js';
import { connectThroughConsent } from '../harness/connect.js';
import { eventually } from '@pdeck/integration-sdk/testing';
import { itLeavesNoSecrets } from './no-leaks.js';
import { googleEnv, slowEventPages } from './google-kit.js';

const ALICE = 'alice@example.com';
const EVENTS = 10_000;

/** Everything a PDeck reader sees of an item, independent of which connection synced it. */
const PROJECTION = `external_id, provider, kind, container_id, title, body, status, starts_at,
  ends_at, all_day, url, external_version, deleted_at IS NULL AS live, md5(raw::text) AS raw_md5`;

// Postgres restarted while a sync page's transaction is open.
describe('Postgres restarted in the middle of a sync page', () => {
  const google = new GoogleCalendarFake({ seed: false });
  let cluster: Cluster;

  beforeAll(async () => {
    await google.start();
    google.seedLarge(ALICE, 'primary', EVENTS);
    cluster = await new Cluster({ workers: 2, env: googleEnv(google) }).start();
  });
  afterAll(async () => {
    await cluster?.stop();
    await google.stop();
  });

  const connectRun = async (connectionId: string) =>
    (
      await cluster.pg.query<{ id: string; status: string; upserted: number }>(
        "SELECT id, status, upserted FROM sync_runs WHERE connection_id = $1 AND trigger = 'connect'",
        [connectionId],
      )
    )[0];
  const items = (connectionId: string) =>
    cluster.pg.query(
      `SELECT ${PROJECTION} FROM items WHERE connection_id = $1 ORDER BY external_id`,
      [connectionId],
    );

  it('rolls the open page back, retries the job, and ends equal to a clean run', async () => {
    // The clean run: the same Google account connected by another PDeck user, no fault.
    const clean = await connectThroughConsent(cluster, 'google-calendar', 'user-clean', {
      account: ALICE,
    });
    await eventually(
      async () => ((await connectRun(clean))?.status === 'succeeded' ? true : undefined),
      'the clean run',
      60_000,
    );

    slowEventPages(google, 1_500, 4);
    const faulted = await connectThroughConsent(cluster, 'google-calendar', 'user-faulted', {
      account: ALICE,
    });
    const run = await eventually(
      async () => {
        const r = await connectRun(faulted);
        return r?.status === 'running' && r.upserted > 0 ? r : undefined;
      },
      'a committed first page',
      30_000,
    );
    const committedBefore = run.upserted;

    // Hold the run's row: the next page transaction writes its items, then waits on this lock
    // to add its counts. That is the moment to pull Postgres away.
    const blocker = await cluster.pg.client();
    blocker.on('error', () => undefined);
    await blocker.query('BEGIN');
    await blocker.query('SELECT id FROM sync_runs WHERE id = $1 FOR UPDATE', [run.id]);
    await eventually(
      async () => {
        const [{ n }] = (
          await blocker.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid)
             WHERE NOT l.granted AND a.query LIKE 'UPDATE sync_runs%'`,
          )
        ).rows;
        return n > 0 ? true : undefined;
      },
      'the page transaction waiting on the run row',
      20_000,
    );
    // The waiting transaction has written the page's items: they exist, uncommitted. Live rows
    // only: a page's cancelled series instances are stored as tombstones, not counted as upserts.
    const [{ visible }] = (
      await blocker.query<{ visible: number }>(
        'SELECT count(*)::int AS visible FROM items WHERE connection_id = $1 AND deleted_at IS NULL',
        [faulted],
      )
    ).rows;
    expect(visible).toBe(committedBefore);

    const crashedAt = Date.now();
    await cluster.pg.crash();
    await cluster.pg.start();
    await blocker.end().catch(() => undefined);

    // The API answers again once its pool reconnects.
    await eventually(
      async () => {
        const res = await fetch(`${cluster.baseUrl}/health/ready`);
        return res.status === 200 ? true : undefined;
      },
      'the API to be ready again',
      30_000,
    );
    const apiBackMs = Date.now() - crashedAt;
    await eventually(
      async () => ((await connectRun(faulted))?.status === 'succeeded' ? true : undefined),
      'the retried run to finish',
      120_000,
    );
    const finishedMs = Date.now() - crashedAt;
    console.log(
      `[figures] Postgres restart: API ready ${apiBackMs} ms after the Postgres crash; sync finished ${finishedMs} ms after it`,
    );

    // Nothing of the rolled-back page survived twice: the run counted every event once.
    expect((await connectRun(faulted)).upserted).toBe(EVENTS);
    const cleanItems = await items(clean);
    const faultedItems = await items(faulted);
    expect(cleanItems).toHaveLength(EVENTS);
    expect(faultedItems).toEqual(cleanItems);
    const [state] = await cluster.pg.query<{ stage: string; status: string }>(
      'SELECT stage, status FROM sync_states WHERE connection_id = $1',
      [faulted],
    );
    expect(state).toEqual({ stage: 'incremental', status: 'ok' });
  });

  itLeavesNoSecrets(
    () => cluster,
    () => [google],
  );
});
