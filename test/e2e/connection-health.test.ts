import { randomBytes } from 'node:crypto';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthEvaluationService } from '../../src/connection-health/health-evaluation.service.js';
import type { PdeckEventEnvelope } from '../../src/events/pdeck-event.js';
import { SYNC_QUEUE } from '../../src/sync/sync.constants.js';
import { WEBHOOK_SUBSCRIPTIONS_QUEUE } from '../../src/webhooks/webhooks.constants.js';
import { eventually } from '@pdeck/integration-sdk/testing';
import { PdeckReceiver } from '../support/events-test-kit.js';
import { FakeTasksApi } from '../support/fake-tasks-api.js';
import { TEST_API_TOKEN } from '../support/test-app.js';
import { TASKS_ORIGIN } from '../support/test-sync-provider.js';
import { startWebhookTestApp, type WebhookTestApp } from '../support/webhook-test-kit.js';

const auth = { authorization: `Bearer ${TEST_API_TOKEN}`, 'content-type': 'application/json' };

type Received = PdeckEventEnvelope & { id: string; data: Record<string, unknown> };

interface Issue {
  id: string;
  type: string;
  status: string;
  count: number;
  muted: boolean;
  lastError: string | null;
  note: string | null;
}

/** The service, a PDeck receiver and the tasks fake over HTTP, for one describe block. */
function harness(env: Record<string, string>) {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const receiver = new PdeckReceiver(secret);
  const tasks = new FakeTasksApi();
  const h = { t: undefined as unknown as WebhookTestApp, receiver, tasks };

  beforeAll(async () => {
    await receiver.start();
    tasks.seed(3);
    await tasks.start();
    h.t = await startWebhookTestApp({
      PDECK_EVENTS_URL: receiver.url,
      PDECK_EVENTS_SECRET: secret,
      PROVIDER_ORIGINS: JSON.stringify({ [TASKS_ORIGIN]: tasks.origin }),
      ...env,
    });
  });
  afterAll(async () => {
    await h.t?.close();
    await tasks.close();
    await receiver.stop();
  });
  return h;
}

function kit(h: ReturnType<typeof harness>) {
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${h.t.baseUrl}${path}`, { ...init, headers: auth });
  const received = (): Received[] =>
    h.receiver.requests
      .filter((r) => r.valid && r.answered === 200)
      .map((r) => ({ ...JSON.parse(r.body), id: String(r.headers['webhook-id']) }));
  const ofType = (type: string) => received().filter((e) => e.type === type);
  const outboxDrained = () =>
    eventually(
      async () =>
        (await h.t.db.query('SELECT count(*)::int AS n FROM event_outbox'))[0].n === 0
          ? true
          : undefined,
      'an empty outbox',
    );
  /** Requests a sync and waits for its run to end; `fail` makes the listing answer 403. */
  async function sync(fail: boolean): Promise<string> {
    // Wait until nothing that lists the fake's lists is waiting or running: the schedule's first
    // tick (our request would join it) and the connection's webhook subscribe job (it lists the
    // resources too, and would take the fault meant for our sync). Delayed jobs are the next
    // scheduled tick and renewal.
    const queues = [SYNC_QUEUE, WEBHOOK_SUBSCRIPTIONS_QUEUE].map((name) =>
      h.t.app.get<Queue>(getQueueToken(name)),
    );
    await eventually(async () => {
      for (const queue of queues) {
        const counts = await queue.getJobCounts('waiting', 'active', 'prioritized');
        if (Object.values(counts).some((c) => c > 0)) return undefined;
      }
      const [{ n }] = await h.t.db.query(
        "SELECT count(*)::int AS n FROM sync_runs WHERE connection_id = $1 AND status IN ('queued', 'running')",
        [h.t.connectionId],
      );
      return n === 0 ? true : undefined;
    }, 'the sync and subscription queues to be idle');
    if (fail) h.tasks.faults.push({ status: 403, pathIncludes: '/lists' });
    const res = await api(`/v1/connections/${h.t.connectionId}/sync`, {
      method: 'POST',
      body: JSON.stringify({ mode: 'incremental' }),
    });
    expect(res.status).toBe(202);
    const { syncRunId } = (await res.json()) as { syncRunId: string };
    return eventually(async () => {
      const [run] = await h.t.db.query('SELECT status FROM sync_runs WHERE id = $1', [syncRunId]);
      return ['succeeded', 'partial', 'failed'].includes(run?.status) ? run.status : undefined;
    }, `run ${syncRunId} to end`);
  }
  /** Waits until the run-ended listener has written what the run tells (it runs after the run). */
  const syncIssue = (check: (i: Issue | undefined) => boolean) =>
    eventually(
      async () => {
        const res = await api(`/v1/connections/${h.t.connectionId}/issues?status=open`);
        const { issues } = (await res.json()) as { issues: Issue[] };
        const issue = issues.find((i) => i.type === 'sync');
        return check(issue) ? (issue ?? null) : undefined;
      },
      'the sync issue',
      { timeoutMs: 30_000 },
    );
  const health = async () => {
    const res = await api(`/v1/connections/${h.t.connectionId}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { health: { state: string; reason: string; since: string } })
      .health;
  };
  return { api, received, ofType, outboxDrained, sync, syncIssue, health };
}

describe(
  'connection issues: open once, count, resolve after quiet, mute',
  { timeout: 90_000 },
  () => {
    const h = harness({ ISSUE_RESOLVE_AFTER_MS: '1500' });
    const k = kit(h);

    it('shows health on the connection routes', async () => {
      expect(await k.health()).toEqual({
        state: 'healthy',
        reason: 'Waiting for the first sync.',
        since: null,
      });
      const res = await k.api('/v1/connections?userId=user-hooks');
      const [listed] = (await res.json()) as { health: { state: string } }[];
      expect(listed.health.state).toBe('healthy');
    });

    it('a connection failing repeatedly has one sync issue whose count grows, and notifies once', async () => {
      for (let n = 1; n <= 3; n++) {
        expect(await k.sync(true)).toBe('failed');
        const issue = await k.syncIssue((i) => i?.count === n);
        expect(issue).toMatchObject({ status: 'open', muted: false });
        expect(issue?.lastError).toContain('PERMISSION');
      }
      const health = await k.health();
      expect(health.state).toBe('failing');
      expect(health.reason).toContain('The last 3 syncs failed.');
      await k.outboxDrained();
      await eventually(
        () => (k.ofType('connection.issue_opened').length ? true : undefined),
        'opened',
      );
      const opened = k.ofType('connection.issue_opened');
      expect(opened).toHaveLength(1);
      expect(opened[0].data).toMatchObject({
        connectionId: h.t.connectionId,
        userId: 'user-hooks',
        issueType: 'sync',
      });
      // sync.failed goes out with the opening only, not for every failed run.
      await eventually(() => (k.ofType('sync.failed').length ? true : undefined), 'sync.failed');
      expect(k.ofType('sync.failed')).toHaveLength(1);
      // Only ids and words: nothing resembling the fake's token.
      expect(JSON.stringify(k.received())).not.toContain('tasks-token');
    });

    it('lists issues across connections, filtered and paged, and refuses bad filters', async () => {
      const res = await k.api('/v1/issues?status=open&provider=test-hooks&limit=1');
      expect(res.status).toBe(200);
      const page = (await res.json()) as { issues: Issue[]; nextCursor: string | null };
      expect(page.issues).toHaveLength(1);
      expect(page.nextCursor).toBeNull();
      const other = (await (await k.api('/v1/issues?provider=other')).json()) as {
        issues: Issue[];
      };
      expect(other.issues).toEqual([]);
      for (const bad of [
        'status=bogus',
        'limit=0',
        'limit=201',
        'cursor=%25%25',
        'cursor=bm9wZQ',
        'x=1',
      ]) {
        expect((await k.api(`/v1/issues?${bad}`)).status, bad).toBe(400);
      }
      expect((await k.api('/v1/connections/not-a-uuid/issues')).status).toBe(400);
      expect(
        (await k.api('/v1/connections/00000000-0000-4000-8000-000000000000/issues')).status,
      ).toBe(404);
    });

    it('success for the quiet period resolves it, with one issue_resolved', async () => {
      expect(await k.sync(false)).toBe('succeeded');
      const evaluation = h.t.app.get(HealthEvaluationService);
      // Not yet: the quiet period has not passed.
      await evaluation.run();
      expect((await k.syncIssue(() => true))?.status).toBe('open');
      await new Promise((r) => setTimeout(r, 1600));
      await evaluation.run();
      await k.syncIssue((i) => i === undefined);
      const res = await k.api(`/v1/connections/${h.t.connectionId}/issues?status=resolved`);
      const [resolved] = ((await res.json()) as { issues: (Issue & { resolvedAt: string })[] })
        .issues;
      expect(resolved).toMatchObject({ type: 'sync', status: 'resolved', count: 3 });
      expect(resolved.resolvedAt).toBeTruthy();
      await eventually(
        () => (k.ofType('connection.issue_resolved').length ? true : undefined),
        'issue_resolved',
      );
      expect(k.ofType('connection.issue_resolved')[0].data).toMatchObject({
        issueId: resolved.id,
        issueType: 'sync',
      });
      expect((await k.health()).state).toBe('healthy');
    });

    it('a muted issue sends nothing more; unmute; unknown ids', async () => {
      expect(await k.sync(true)).toBe('failed');
      const issue = (await k.syncIssue((i) => i !== undefined))!;
      await eventually(
        () => (k.ofType('connection.issue_opened').length === 2 ? true : undefined),
        'the second issue_opened',
      );
      const muted = await k.api(`/v1/issues/${issue.id}/mute`, { method: 'POST' });
      expect(muted.status).toBe(200);
      expect(await muted.json()).toMatchObject({ id: issue.id, muted: true });
      expect(await k.sync(false)).toBe('succeeded');
      await new Promise((r) => setTimeout(r, 1600));
      await h.t.app.get(HealthEvaluationService).run();
      await k.syncIssue((i) => i === undefined);
      await k.outboxDrained();
      await new Promise((r) => setTimeout(r, 500));
      expect(k.ofType('connection.issue_resolved')).toHaveLength(1);
      const unmuted = await k.api(`/v1/issues/${issue.id}/unmute`, { method: 'POST' });
      expect(await unmuted.json()).toMatchObject({ muted: false });
      expect(
        (await k.api('/v1/issues/00000000-0000-4000-8000-000000000000/mute', { method: 'POST' }))
          .status,
      ).toBe(404);
      expect((await k.api('/v1/issues/nope/mute', { method: 'POST' })).status).toBe(400);
    });
  },
);

describe('auto-pause', { timeout: 90_000 }, () => {
  const h = harness({ AUTO_PAUSE_AFTER_MS: '1000' });
  const k = kit(h);
  const schedulerExists = async (): Promise<boolean> => {
    const queue = h.t.app.get<Queue>(getQueueToken(SYNC_QUEUE));
    return (await queue.getJobSchedulers(0, -1)).some((s) => s.key === `sync-${h.t.connectionId}`);
  };
  const runCount = async (): Promise<number> =>
    (
      await h.t.db.query('SELECT count(*)::int AS n FROM sync_runs WHERE connection_id = $1', [
        h.t.connectionId,
      ])
    )[0].n;

  it('pauses a connection whose sync issue stays open, and tells PDeck', async () => {
    expect(await k.sync(true)).toBe('failed');
    await k.syncIssue((i) => i !== undefined);
    await new Promise((r) => setTimeout(r, 1100));
    await h.t.app.get(HealthEvaluationService).run();
    const health = await k.health();
    expect(health.state).toBe('paused');
    expect(health.reason).toContain('syncs have failed since');
    expect(await schedulerExists()).toBe(false);
    const issue = await k.syncIssue((i) => i?.note != null);
    expect(issue?.note).toContain('paused by auto');
    const paused = await eventually(() => k.ofType('connection.paused')[0], 'connection.paused');
    expect(paused.data).toMatchObject({ connectionId: h.t.connectionId, userId: 'user-hooks' });
  });

  it('refuses a manual sync with 409 paused and drops webhook-triggered ones', async () => {
    const before = await runCount();
    const res = await k.api(`/v1/connections/${h.t.connectionId}/sync`, {
      method: 'POST',
      body: JSON.stringify({}),
    });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ error: 'paused' });
    const hook = await h.t.postSigned({
      id: 'paused-1',
      account: 'tasks-account',
      type: 'changed',
    });
    expect(hook.status).toBe(200);
    expect(await h.t.waitForFinal('paused-1')).toBe('processed');
    expect(await runCount()).toBe(before);
    // The reconcile does not bring the scheduler back.
    const { SyncSchedulerService } = await import('../../src/sync/sync-scheduler.service.js');
    await h.t.app.get(SyncSchedulerService).reconcile();
    expect(await schedulerExists()).toBe(false);
  });

  it('resume brings the schedule back and syncs; a second pause and resume are harmless', async () => {
    const res = await k.api(`/v1/connections/${h.t.connectionId}/resume`, {
      method: 'POST',
      body: JSON.stringify({ actor: 'ops-test' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      connectionId: h.t.connectionId,
      paused: false,
      changed: true,
    });
    expect(await schedulerExists()).toBe(true);
    await eventually(async () => {
      const [run] = await h.t.db.query(
        "SELECT status FROM sync_runs WHERE connection_id = $1 AND status = 'succeeded'",
        [h.t.connectionId],
      );
      return run ? true : undefined;
    }, 'the catch-up sync after resume');
    // Not paused again at once: the period counts from the resume, and it syncs fine now.
    await new Promise((r) => setTimeout(r, 1100));
    await h.t.app.get(HealthEvaluationService).run();
    expect((await k.health()).state).not.toBe('paused');
    const again = await k.api(`/v1/connections/${h.t.connectionId}/resume`, {
      method: 'POST',
      body: JSON.stringify({}),
    });
    expect(await again.json()).toMatchObject({ changed: false });
    const pause = await k.api(`/v1/connections/${h.t.connectionId}/pause`, {
      method: 'POST',
      body: JSON.stringify({ reason: 'maintenance', unknown: 1 }),
    });
    expect(pause.status).toBe(400);
    const manual = await k.api(`/v1/connections/${h.t.connectionId}/pause`, {
      method: 'POST',
      body: JSON.stringify({ reason: 'maintenance' }),
    });
    expect(await manual.json()).toMatchObject({ paused: true, changed: true });
    expect((await k.health()).reason).toContain('maintenance');
  });
});

describe('the other issue types', { timeout: 90_000 }, () => {
  const h = harness({ ISSUE_RESOLVE_AFTER_MS: '1000' });
  const k = kit(h);
  const openIssue = (type: string) =>
    eventually(async () => {
      const res = await k.api(`/v1/connections/${h.t.connectionId}/issues?status=open`);
      return ((await res.json()) as { issues: Issue[] }).issues.find((i) => i.type === type);
    }, `an open ${type} issue`);
  const isOpen = async (type: string): Promise<boolean> => {
    const res = await k.api(`/v1/connections/${h.t.connectionId}/issues?status=open`);
    return ((await res.json()) as { issues: Issue[] }).issues.some((i) => i.type === type);
  };
  const quietThenEvaluate = async () => {
    await new Promise((r) => setTimeout(r, 1100));
    await h.t.app.get(HealthEvaluationService).run();
  };

  it('resource_access: a resource skipped for NOT_FOUND, named in words; resolves when quiet', async () => {
    h.tasks.faults.push({ status: 404, pathIncludes: '/lists/list-2/tasks' });
    expect(await k.sync(false)).toBe('partial');
    const issue = await openIssue('resource_access');
    expect(issue.lastError).toContain('"Work"');
    expect((await k.health()).state).toBe('healthy');
    await quietThenEvaluate();
    expect(await isOpen('resource_access')).toBe(false);
  });

  it('auth: opens with needs_reauth (health says so) and resolves once the connection is active', async () => {
    const { TokenService } = await import('../../src/auth/token.service.js');
    await h.t.app.get(TokenService).markNeedsReauth(h.t.connectionId, 'invalid_grant');
    const issue = await openIssue('auth');
    expect(issue.lastError).toContain('invalid_grant');
    expect(await k.health()).toMatchObject({ state: 'needs_reauth' });
    await eventually(
      () => (k.ofType('connection.needs_reauth').length ? true : undefined),
      'needs_reauth kept',
    );
    // Reconnected (the connect flow's last step, without its browser part).
    await h.t.db.query("UPDATE connections SET status = 'active' WHERE id = $1", [
      h.t.connectionId,
    ]);
    await h.t.app.get(HealthEvaluationService).run();
    expect(await isOpen('auth')).toBe(false);
  });

  it('webhook_subscription: failed subscribe attempts open it; none left and quiet resolves it', async () => {
    await h.t.db.query(
      `INSERT INTO webhook_subscribe_attempts (connection_id, resource_id, provider, callback_url, status, failures, last_error, started_at, next_attempt_at)
       VALUES ($1, 'list-1', 'test-hooks', 'http://127.0.0.1/v1/webhooks/test-hooks', 'failed', 1, 'TEMPORARY: watch refused', now(), now() + interval '10 minutes')`,
      [h.t.connectionId],
    );
    await h.t.app.get(HealthEvaluationService).run();
    const issue = await openIssue('webhook_subscription');
    expect(issue.lastError).toContain('watch refused');
    // Seen again by the next evaluations only when a newer failure is recorded (an earlier test
    // of this connection may have opened the issue already: the count must not move now).
    await h.t.app.get(HealthEvaluationService).run();
    expect((await openIssue('webhook_subscription')).count).toBe(issue.count);
    await quietThenEvaluate();
    expect(await isOpen('webhook_subscription')).toBe(true);
    await h.t.db.query('DELETE FROM webhook_subscribe_attempts WHERE connection_id = $1', [
      h.t.connectionId,
    ]);
    await h.t.app.get(HealthEvaluationService).run();
    expect(await isOpen('webhook_subscription')).toBe(false);
  });

  it('exports the open issues gauge after an evaluation', async () => {
    await h.t.db.query(
      `INSERT INTO webhook_subscribe_attempts (connection_id, resource_id, provider, callback_url, status, failures, last_error, started_at)
       VALUES ($1, 'list-2', 'test-hooks', 'http://127.0.0.1/v1/webhooks/test-hooks', 'failed', 1, 'TEMPORARY: again', now())`,
      [h.t.connectionId],
    );
    await h.t.app.get(HealthEvaluationService).run();
    const res = await fetch(`${h.t.baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
    });
    expect(await res.text()).toMatch(
      /^connection_issues_open\{provider="test-hooks",type="webhook_subscription"\} 1$/m,
    );
  });
});

describe('rate_limited and the API documentation', { timeout: 90_000 }, () => {
  const h = harness({});
  const k = kit(h);

  it('rate_limited: a run parked by a rate limit for more than an hour from its start', async () => {
    h.tasks.faults.push({
      status: 429,
      headers: { 'retry-after': '7200' },
      pathIncludes: 'list-1',
    });
    const res = await k.api(`/v1/connections/${h.t.connectionId}/sync`, {
      method: 'POST',
      body: JSON.stringify({}),
    });
    expect(res.status).toBe(202);
    const issue = await eventually(
      async () => {
        const page = await k.api(`/v1/connections/${h.t.connectionId}/issues?status=open`);
        return ((await page.json()) as { issues: Issue[] }).issues.find(
          (i) => i.type === 'rate_limited',
        );
      },
      'an open rate_limited issue',
      { timeoutMs: 30_000 },
    );
    expect(issue.lastError).toContain("waited on the provider's rate limits");
  });

  it('documents the routes and the health of a connection in Swagger', async () => {
    const res = await fetch(`${h.t.baseUrl}/docs/json`, { headers: auth });
    const doc = (await res.json()) as {
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    for (const path of [
      '/v1/issues',
      '/v1/connections/{id}/issues',
      '/v1/issues/{id}/mute',
      '/v1/issues/{id}/unmute',
      '/v1/connections/{id}/pause',
      '/v1/connections/{id}/resume',
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(doc.components.schemas.ConnectionDto.properties).toHaveProperty('health');
    expect(doc.components.schemas.ConnectionHealthDto.properties).toHaveProperty('state');
  });
});
