import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleCalendarFake } from '../../sandbox/google-calendar/google-calendar.fake.js';
import { CLUSTER_API_TOKEN, Cluster } from '../harness/cluster.js';
import { connectThroughConsent } from '../harness/connect.js';
import { eventually } from '@pdeck/integration-sdk/testing';
import { googleEnv } from './google-kit.js';

const ALICE = 'alice@example.com';

/**
 * ROLE=worker processes have no API server; their health server (WORKER_HEALTH_PORT) answers the
 * probes and exposes the worker's own metrics, where the provider requests of syncs are counted
 * (the API process never makes them, so its /metrics cannot show them).
 */
describe('worker health server (ROLE=worker)', () => {
  const google = new GoogleCalendarFake();
  let cluster: Cluster;

  beforeAll(async () => {
    await google.start();
    cluster = await new Cluster({ workers: 2, env: googleEnv(google) }).start();
  });
  afterAll(async () => {
    await cluster?.stop();
    await google.stop();
  });

  it('answers liveness and readiness on every worker, without details', async () => {
    for (const i of cluster.workers.keys()) {
      const live = await cluster.workerRequest(i, '/health/live');
      expect(live.status).toBe(200);
      expect(await live.json()).toEqual({ status: 'ok' });
      const ready = await cluster.workerRequest(i, '/health/ready');
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({
        status: 'ok',
        details: { postgres: { status: 'up' }, redis: { status: 'up' } },
      });
      expect((await cluster.workerRequest(i, '/v1/items')).status).toBe(404);
    }
  });

  it('serves /metrics only with an internal token, and counts the provider requests of a sync', async () => {
    expect((await cluster.workerRequest(0, '/metrics')).status).toBe(401);
    const wrong = { headers: { authorization: 'Bearer not-a-token-of-this-cluster-0000' } };
    expect((await cluster.workerRequest(0, '/metrics', wrong)).status).toBe(401);

    const connectionId = await connectThroughConsent(cluster, 'google-calendar', 'user-health', {
      account: ALICE,
    });
    await eventually(
      async () => {
        const [run] = await cluster.pg.query<{ status: string }>(
          "SELECT status FROM sync_runs WHERE connection_id = $1 AND trigger = 'connect'",
          [connectionId],
        );
        return run?.status === 'succeeded' ? run : undefined;
      },
      'the initial sync',
      30_000,
    );
    const auth = { headers: { authorization: `Bearer ${CLUSTER_API_TOKEN}` } };
    // Whichever worker ran the sync counted its events.list calls.
    const texts = await Promise.all(
      cluster.workers.map(async (_, i) => {
        const res = await cluster.workerRequest(i, '/metrics', auth);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toContain('text/plain');
        return res.text();
      }),
    );
    expect(texts.join('\n')).toMatch(
      /provider_requests_total\{provider="google-calendar",operation="events\.list",status="200"\} [1-9]/,
    );
  });

  it('is gone with its worker and back when the worker restarts', async () => {
    const worker = cluster.workers[1];
    await worker.stop();
    await expect(cluster.workerRequest(1, '/health/live')).rejects.toThrow();
    await worker.start();
    expect((await cluster.workerRequest(1, '/health/live')).status).toBe(200);
  });
});
