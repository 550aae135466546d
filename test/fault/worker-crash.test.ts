import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleCalendarFake } from '../../sandbox/google-calendar/google-calendar.fake.js';
import { Cluster } from '../harness/cluster.js';
import { connectThroughConsent } from '../harness/connect.js';
import { eventually } from '@pdeck/integration-sdk/testing';
import { itLeavesNoSecrets } from './no-leaks.js';
import { googleEnv, slowEventPages, sourceEventIds } from './google-kit.js';

const ALICE = 'alice@example.com';
const EVENTS = 10_000;

// A worker SIGKILLed in the middle of a 10k-event full sync.
describe('worker SIGKILLed mid full sync', () => {
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

  it('resumes after the crash: exact item count, no duplicate, consistent cursor', async () => {
    // Every events page takes 1.5 s, so the 4-page sync is surely in flight when the kill lands.
    slowEventPages(google, 1_500, 4);
    const connectionId = await connectThroughConsent(cluster, 'google-calendar', 'user-12', {
      account: ALICE,
    });
    const run = () =>
      cluster.pg.query<{ id: string; status: string; upserted: number }>(
        "SELECT id, status, upserted FROM sync_runs WHERE connection_id = $1 AND trigger = 'connect' ORDER BY created_at",
        [connectionId],
      );
    // Wait until at least one page is committed and the run is still going.
    const [inFlight] = await eventually(
      async () => {
        const rows = await run();
        return rows[0]?.status === 'running' && rows[0].upserted > 0 ? rows : undefined;
      },
      'a committed first page',
      {
        timeoutMs: 60_000,
        // On a timeout: the run rows and what each process said last (warnings and errors first).
        debug: async () => ({
          runs: await cluster.pg.query(
            'SELECT trigger, status, upserted, error_code FROM sync_runs WHERE connection_id = $1',
            [connectionId],
          ),
          processes: cluster.processes.map((p) => ({
            name: p.name,
            problems: p.lines.filter((l) => /"level":(40|50|60)/.test(l)).slice(-5),
            last: p.lines.slice(-5),
          })),
        }),
      },
    );
    const victim = cluster.workers.find((w) =>
      w.lines.some((l) => l.includes('Sync run started') && l.includes(inFlight.id)),
    );
    expect(victim, 'the worker running the sync').toBeDefined();
    const killedAt = Date.now();
    const exit = await victim!.kill();
    expect(exit.signal).toBe('SIGKILL');
    await victim!.start();

    const [finished] = await eventually(
      async () => {
        const rows = await run();
        return rows[0]?.status === 'succeeded' ? rows : undefined;
      },
      'the sync to finish after the crash',
      120_000,
    );
    const recoveryMs = Date.now() - killedAt;
    console.log(`[figures] worker crash: run resumed and finished ${recoveryMs} ms after SIGKILL`);

    const items = await cluster.pg.query<{ external_id: string }>(
      'SELECT external_id FROM items WHERE connection_id = $1 AND deleted_at IS NULL ORDER BY external_id',
      [connectionId],
    );
    const expected = (await sourceEventIds(google, ALICE, 'primary')).sort();
    expect(expected).toHaveLength(EVENTS);
    expect(items).toHaveLength(EVENTS);
    expect(new Set(items.map((i) => i.external_id)).size).toBe(EVENTS);
    expect(items.map((i) => i.external_id)).toEqual(expected.map((id) => `${ALICE}:${id}`));
    // Pages are counted in the transaction that writes them: the resumed run counted each once.
    expect(finished.upserted).toBe(EVENTS);

    const [state] = await cluster.pg.query<{ stage: string; cursor: Record<string, unknown> }>(
      'SELECT stage, cursor FROM sync_states WHERE connection_id = $1',
      [connectionId],
    );
    expect(state.stage).toBe('incremental');
    expect(state.cursor).toMatchObject({ syncToken: expect.any(String) });
    expect(state.cursor).not.toHaveProperty('pageToken');

    // The cursor is usable: an incremental run finds nothing new and changes nothing.
    const again = await cluster.request(`/v1/connections/${connectionId}/sync`, {
      method: 'POST',
      body: JSON.stringify({ mode: 'incremental' }),
    });
    expect(again.status).toBe(202);
    const { syncRunId } = (await again.json()) as { syncRunId: string };
    const second = await eventually(
      async () => {
        const [row] = await cluster.pg.query<{ status: string; upserted: number; mode: string }>(
          'SELECT status, upserted, mode FROM sync_runs WHERE id = $1',
          [syncRunId],
        );
        return row?.status === 'succeeded' ? row : undefined;
      },
      'the incremental run',
      30_000,
    );
    expect(second).toMatchObject({ mode: 'incremental', upserted: 0 });
  });

  itLeavesNoSecrets(
    () => cluster,
    () => [google],
  );
});
