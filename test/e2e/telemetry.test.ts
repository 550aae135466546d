import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrelloFake } from '../../sandbox/trello/trello.fake.js';
import { TrelloProvider } from '../../src/providers/trello/trello.provider.js';
import {
  debugState,
  syncIdle,
  type ContractContext,
  eventually,
} from '@pdeck/integration-sdk/testing';
import { connectAlice, trelloEnv, untilSyncedAndSubscribed } from '../support/trello-e2e-kit.js';
import { CONTRACT_AUTH, freePort, startTestApp, type TestApp } from '../support/test-app.js';

interface RunReport {
  id: string;
  status: string;
  errorCode: string | null;
  errorMessage: string | null;
  resources: {
    resourceId: string;
    resourceName: string;
    outcome: string;
    errorCode?: string;
    errorMessage?: string;
    operation?: string;
  }[];
}

/**
 * What an operator reads: /metrics after real work, and the sync-run history explaining a
 * partial run per resource, also when the run paused for a rate limit in between.
 */
describe('Telemetry and run reports, against the Trello sandbox over HTTP', () => {
  let fake: TrelloFake;
  let t: TestApp;
  let ctx: ContractContext;
  /** Board ids in the order a run syncs them (the order of Trello's board listing). */
  let boardOrder: string[];
  const debug = () => debugState(ctx);

  beforeAll(async () => {
    fake = new TrelloFake({ webhooks: { baseDelayMs: 50 } });
    await fake.start();
    t = await startTestApp({
      port: await freePort(),
      integrations: [TrelloProvider],
      env: trelloEnv(fake),
    });
    const connectionId = await connectAlice(t, 'pdeck-telemetry-user');
    ctx = { app: t, db: t.app.get(DataSource), userId: 'pdeck-telemetry-user', connectionId };
    await untilSyncedAndSubscribed(ctx, fake, debug);
    const boardIds = new Set([fake.seed!.boards.product, fake.seed!.boards.personal]);
    boardOrder = [];
    for (const entry of fake.server.log.recent(2000)) {
      const id = /^\/1\/boards\/([^/]+)\//.exec(entry.path)?.[1];
      if (id && boardIds.has(id) && !boardOrder.includes(id)) boardOrder.push(id);
    }
    expect(boardOrder).toHaveLength(2);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await fake?.stop();
  });

  async function metricsText(): Promise<string> {
    const res = await fetch(`${t.baseUrl}/metrics`, { headers: CONTRACT_AUTH });
    expect(res.status).toBe(200);
    return res.text();
  }

  /** Sum of a metric's samples whose labels include every given label. */
  function sample(text: string, name: string, labels: Record<string, string> = {}): number {
    let sum = 0;
    for (const line of text.split('\n')) {
      const m = /^([a-z_]+)(?:\{([^}]*)\})? ([0-9.e+-]+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const has = Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`));
      if (has) sum += Number(m[3]);
    }
    return sum;
  }

  async function runs(): Promise<RunReport[]> {
    const res = await fetch(`${t.baseUrl}/v1/connections/${ctx.connectionId}/sync-runs`, {
      headers: CONTRACT_AUTH,
    });
    expect(res.status).toBe(200);
    return (await res.json()) as RunReport[];
  }

  async function fullSync(what: string, timeoutMs: number): Promise<RunReport> {
    await eventually(() => syncIdle(ctx), 'quiet before the sync', { timeoutMs: 15_000, debug });
    const res = await fetch(`${t.baseUrl}/v1/connections/${ctx.connectionId}/sync`, {
      method: 'POST',
      headers: CONTRACT_AUTH,
      body: JSON.stringify({ mode: 'full' }),
    });
    expect(res.status).toBe(202);
    const { syncRunId } = (await res.json()) as { syncRunId: string };
    return eventually(
      async () => {
        const run = (await runs()).find((r) => r.id === syncRunId);
        return run && ['succeeded', 'partial', 'failed'].includes(run.status) ? run : undefined;
      },
      what,
      { timeoutMs, debug },
    );
  }

  it('counts provider requests, synced items, runs and webhook deliveries in /metrics', async () => {
    const before = await metricsText();
    // The initial sync already ran: its requests, items and run are counted.
    expect(
      sample(before, 'provider_requests_total', { provider: 'trello', status: '200' }),
    ).toBeGreaterThan(0);
    expect(
      sample(before, 'provider_requests_total', { provider: 'trello', operation: 'boards.cards' }),
    ).toBeGreaterThan(0);
    expect(
      sample(before, 'sync_items_total', { provider: 'trello', outcome: 'created' }),
    ).toBeGreaterThan(0);
    expect(
      sample(before, 'sync_runs_total', { provider: 'trello', mode: 'full', outcome: 'succeeded' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(before, 'sync_run_duration_seconds_count', { provider: 'trello' }),
    ).toBeGreaterThanOrEqual(1);
    expect(before).toMatch(/^queue_jobs\{queue="sync",state="waiting"\} \d+$/m);

    // One card change: Trello delivers a signed webhook, which the worker applies.
    const accepted = sample(before, 'webhook_deliveries_total', {
      provider: 'trello',
      outcome: 'accepted',
    });
    fake.updateCard(fake.seed!.cards.release, { name: 'Release 3.0' });
    await fake.whenIdle();
    const after = await eventually(
      async () => {
        const text = await metricsText();
        const processed = sample(text, 'webhook_processing_lag_seconds_count', {
          provider: 'trello',
        });
        return processed > 0 ? text : undefined;
      },
      'the webhook delivery processed',
      { timeoutMs: 15_000, debug },
    );
    expect(
      sample(after, 'webhook_deliveries_total', { provider: 'trello', outcome: 'accepted' }),
    ).toBeGreaterThan(accepted);
    expect(sample(after, 'webhook_ack_seconds_count', { provider: 'trello' })).toBeGreaterThan(0);
  });

  it('a board whose members call answers 404 makes the run partial, saying which board, why and where', async () => {
    const [skipped, kept] = boardOrder;
    const injected = fake.server.faults.stats().injected;
    fake.server.addFault({ status: 404, path: `/1/boards/${skipped}/members`, body: 'not found' });
    const run = await fullSync('the run with a missing board', 30_000);
    expect(fake.server.faults.stats().injected).toBe(injected + 1);

    expect(run.status).toBe('partial');
    expect(run.errorCode).toBe('NOT_FOUND');
    expect(run.errorMessage).toContain('1 of 2 resources not synced');
    const byId = new Map(run.resources.map((r) => [r.resourceId, r]));
    expect(byId.get(kept)?.outcome).toBe('succeeded');
    expect(byId.get(skipped)).toMatchObject({
      outcome: 'skipped',
      errorCode: 'NOT_FOUND',
      operation: 'boards.members',
    });
    expect(byId.get(skipped)?.errorMessage).toMatch(
      /no longer exists, or this account can no longer see it/,
    );
  }, 45_000);

  it('a run paused by a rate limit after a skipped board still ends partial when it resumes', async () => {
    const [skipped, limited] = boardOrder;
    fake.server.addFault({ status: 404, path: `/1/boards/${skipped}/members`, body: 'not found' });
    fake.server.addFault({
      status: 429,
      path: `/1/boards/${limited}/`,
      body: { error: 'API_TOKEN_LIMIT_EXCEEDED', message: 'Rate limit exceeded' },
    });
    const injected = fake.server.faults.stats().injected;
    const run = await fullSync('the limited run to resume and finish', 45_000);
    // Both faults fired: the skip came before the pause, the rest after it.
    expect(fake.server.faults.stats().injected).toBe(injected + 2);
    expect(run.status).toBe('partial');
    const byId = new Map(run.resources.map((r) => [r.resourceId, r]));
    expect(byId.get(skipped)?.outcome).toBe('skipped');
    expect(byId.get(limited)?.outcome).toBe('succeeded');
  }, 60_000);
});
