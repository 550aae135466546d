import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleCalendarFake } from '../../sandbox/google-calendar/google-calendar.fake.js';
import { tokenIdOf } from '../../src/admin/admin-session.store.js';
import { ConnectionStore } from '../../src/auth/connection-store.service.js';
import { IssuesService } from '../../src/connection-health/issues.service.js';
import { GoogleCalendarProvider } from '../../src/providers/google-calendar/google-calendar.provider.js';
import { AdminClient, metric, storeGoogleConnection } from '../support/admin-kit.js';
import { eventually } from '@pdeck/integration-sdk/testing';
import { startTestApp, TEST_API_TOKEN, type TestApp } from '../support/test-app.js';
import { googleFakeEnv } from '../support/google-fake-env.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';

/**
 * The operator console over HTTP against the Google Calendar sandbox, real Postgres and Redis:
 * sign-in and its throttle, the session cookie, pages and actions without a session or CSRF
 * token, the audit log, the overview's numbers against the database, and the queue dashboard.
 */
describe('Operator console', () => {
  let fake: GoogleCalendarFake;
  let t: TestApp;
  let db: DataSource;
  let redis: Redis;
  let aliceId: string;
  let bobId: string;
  const admin = () => new AdminClient(t.baseUrl);

  beforeAll(async () => {
    fake = new GoogleCalendarFake();
    await fake.start();
    t = await startTestApp({
      integrations: [GoogleCalendarProvider],
      env: {
        ...googleFakeEnv(fake),
      },
    });
    db = t.app.get(DataSource);
    redis = new Redis(t.config.redisUrl);
    const store = t.app.get(ConnectionStore);
    aliceId = await storeGoogleConnection(store, fake, 'pdeck-user-a', ALICE);
    bobId = await storeGoogleConnection(store, fake, 'pdeck-user-b', BOB);
  });
  afterAll(async () => {
    redis?.disconnect();
    await t?.close();
    await fake?.stop();
  });

  const clearThrottle = async () => {
    const keys = await redis.keys(`${t.config.redisKeyPrefix}:admin:sign-in-failures:*`);
    if (keys.length) await redis.del(...keys);
  };

  describe('sign-in', () => {
    it('shows a labelled token form', async () => {
      const html = await admin().page('/admin/sign-in');
      expect(html).toContain('<label for="token">');
      expect(html).toMatch(/<input id="token" name="token" type="password"/);
    });

    it('refuses a wrong token (401) and sets no cookie', async () => {
      const client = admin();
      const res = await client.signIn('not-the-token-0123456789abcdef');
      expect(res.status).toBe(401);
      expect(res.headers.get('set-cookie')).toBeNull();
      expect(await res.text()).toContain('not one of the service');
      await clearThrottle();
    });

    it('throttles failed sign-ins per address: after 5, even the right token gets 429', async () => {
      for (let i = 0; i < 5; i++) {
        expect((await admin().signIn(`wrong-token-${i}-0123456789abcdefgh`)).status).toBe(401);
      }
      const blocked = await admin().signIn(TEST_API_TOKEN);
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(blocked.headers.get('set-cookie')).toBeNull();
      await clearThrottle();
      expect((await admin().signIn(TEST_API_TOKEN)).status).toBe(303);
    });

    it('sets an HttpOnly, SameSite=Strict cookie on /admin for 8 hours, storing a token id only', async () => {
      const client = admin();
      const res = await client.signIn(TEST_API_TOKEN);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/admin');
      const cookie = client.setCookie!;
      expect(cookie).toMatch(/^pdeck_admin=[A-Za-z0-9_-]{43};/);
      expect(cookie).toContain('Path=/admin');
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('SameSite=Strict');
      expect(cookie).toContain('Max-Age=28800');
      expect(cookie).not.toContain('Secure'); // PUBLIC_URL is http:// here
      const keys = await redis.keys(`${t.config.redisKeyPrefix}:admin:session:*`);
      expect(keys.length).toBeGreaterThan(0);
      const value = client.cookie!.split('=')[1];
      for (const key of keys) {
        expect(key).not.toContain(value);
        const stored = (await redis.get(key))!;
        expect(stored).not.toContain(TEST_API_TOKEN);
        expect(JSON.parse(stored)).toMatchObject({ tokenId: tokenIdOf(TEST_API_TOKEN) });
        expect(await redis.ttl(key)).toBeLessThanOrEqual(28800);
      }
    });

    it('marks the cookie Secure when PUBLIC_URL is https', async () => {
      const secure = await startTestApp({
        integrations: [GoogleCalendarProvider],
        env: { PUBLIC_URL: 'https://console.example' },
      });
      try {
        const client = new AdminClient(secure.baseUrl);
        expect((await client.signIn(TEST_API_TOKEN)).status).toBe(303);
        expect(client.setCookie).toContain('Secure');
      } finally {
        await secure.close();
      }
    });
  });

  describe('without a session', () => {
    it('redirects every page to the sign-in form (303)', async () => {
      for (const path of [
        '/admin',
        '/admin/connections',
        `/admin/connections/${aliceId}`,
        `/admin/connections/${aliceId}/disconnect`,
        '/admin/issues',
        '/admin/queues',
        '/admin/queues/queue/sync',
      ]) {
        const res = await admin().get(path);
        expect(res.status, path).toBe(303);
        expect(res.headers.get('location'), path).toBe('/admin/sign-in');
      }
      expect((await admin().get('/admin/queues/api/queues')).status).toBe(401);
    });

    it('refuses every action (401) and changes nothing', async () => {
      for (const action of ['sync', 'full-resync', 'pause', 'resume', 'disconnect']) {
        const res = await admin().post(`/admin/connections/${aliceId}/${action}`, {
          confirmed: 'yes',
        });
        expect(res.status, action).toBe(401);
      }
      expect((await admin().post('/admin/sign-out', {})).status).toBe(401);
      const [{ n }] = await db.query(
        'SELECT count(*)::int AS n FROM admin_audit WHERE connection_id IS NOT NULL',
      );
      expect(n).toBe(0);
      const [c] = await db.query('SELECT status FROM connections WHERE id = $1', [aliceId]);
      expect(c.status).toBe('active');
    });

    it('ignores a made-up cookie', async () => {
      const client = admin();
      client.cookie = `pdeck_admin=${'A'.repeat(43)}`;
      expect((await client.get('/admin')).status).toBe(303);
    });
  });

  describe('with a session', () => {
    let client: AdminClient;
    beforeAll(async () => {
      client = admin();
      expect((await client.signIn(TEST_API_TOKEN)).status).toBe(303);
    });

    it('refuses actions without the CSRF token, or with another one (403)', async () => {
      await client.page('/admin');
      for (const csrf of [undefined, 'x'.repeat(43)]) {
        const res = await client.post(
          `/admin/connections/${aliceId}/sync`,
          csrf ? { csrf } : ({} as Record<string, string>),
        );
        expect(res.status).toBe(403);
        expect(await res.text()).toContain('security token');
      }
      const other = admin();
      await other.signIn(TEST_API_TOKEN);
      await other.page('/admin');
      expect(other.csrf).not.toBe(client.csrf);
      const res = await client.post(`/admin/connections/${aliceId}/sync`, { csrf: other.csrf! });
      expect(res.status).toBe(403);
    });

    it('serves pages with a strict CSP and no-store', async () => {
      const res = await client.get('/admin');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'none'");
      expect(res.headers.get('cache-control')).toBe('no-store');
    });

    it('validates the connection filters (400)', async () => {
      for (const q of ['provider=nope', 'health=bogus', 'page=0', 'page=x', 'extra=1']) {
        expect((await client.get(`/admin/connections?${q}`)).status, q).toBe(400);
      }
      expect((await client.get('/admin/connections/not-a-uuid')).status).toBe(400);
      expect((await client.get(`/admin/connections/${randomUUID()}`)).status).toBe(404);
      const html = await client.page(
        `/admin/connections?provider=google-calendar&user=pdeck-user-b`,
      );
      expect(html).toContain(BOB);
      expect(html).not.toContain(ALICE);
    });

    it('records Sync now and Full resync in the audit log with the token id, never the token', async () => {
      await client.page(`/admin/connections/${aliceId}`);
      const res = await client.post(`/admin/connections/${aliceId}/sync`, { csrf: client.csrf! });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`/admin/connections/${aliceId}?notice=sync-started`);
      const full = await client.post(`/admin/connections/${aliceId}/full-resync`, {
        csrf: client.csrf!,
      });
      expect(full.status).toBe(303);
      const audit = (await db.query(
        `SELECT token_id, action, connection_id, detail FROM admin_audit
         WHERE connection_id = $1 ORDER BY at`,
        [aliceId],
      )) as { token_id: string; action: string; detail: { syncRunId: string } }[];
      expect(audit.map((a) => a.action)).toEqual(['sync_now', 'full_resync']);
      for (const a of audit) expect(a.token_id).toBe(tokenIdOf(TEST_API_TOKEN));
      const [run] = await db.query('SELECT connection_id FROM sync_runs WHERE id = $1', [
        audit[0].detail.syncRunId,
      ]);
      expect(run.connection_id).toBe(aliceId);
      const all = JSON.stringify(await db.query('SELECT * FROM admin_audit'));
      expect(all).not.toContain(TEST_API_TOKEN);
      // The detail page lists the run and the audit entries.
      await eventually(async () => {
        const html = await client.page(`/admin/connections/${aliceId}`);
        return html.includes('data-audit-action="full_resync"') && html.includes('data-run-status=')
          ? true
          : undefined;
      }, 'the run and the audit entries on the detail page');
    });

    it('disconnects only after the confirmation page, and records it', async () => {
      const page = await client.page(`/admin/connections/${bobId}/disconnect`);
      expect(page).toContain('Yes, disconnect');
      const unconfirmed = await client.post(`/admin/connections/${bobId}/disconnect`, {
        csrf: client.csrf!,
      });
      expect(unconfirmed.status).toBe(303);
      expect(unconfirmed.headers.get('location')).toBe(`/admin/connections/${bobId}/disconnect`);
      const [before] = await db.query('SELECT status FROM connections WHERE id = $1', [bobId]);
      expect(before.status).toBe('active');
      const confirmed = await client.post(`/admin/connections/${bobId}/disconnect`, {
        csrf: client.csrf!,
        confirmed: 'yes',
      });
      expect(confirmed.status).toBe(303);
      const [after] = await db.query('SELECT status FROM connections WHERE id = $1', [bobId]);
      expect(after.status).toBe('disconnected');
      const [audit] = await db.query(
        `SELECT token_id FROM admin_audit WHERE connection_id = $1 AND action = 'disconnect'`,
        [bobId],
      );
      expect(audit.token_id).toBe(tokenIdOf(TEST_API_TOKEN));
    });

    /** The 24 h sync figures, computed here from sync_runs. */
    const expected = async () => {
      const [row] = (await db.query(
        `SELECT count(*)::int AS finished,
           count(*) FILTER (WHERE r.status IN ('succeeded', 'partial'))::int AS ok,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM r.finished_at - r.started_at)) AS p95
         FROM sync_runs r WHERE r.finished_at >= now() - interval '24 hours'
           AND r.status IN ('succeeded', 'partial', 'failed') AND r.started_at IS NOT NULL`,
      )) as { finished: number; ok: number; p95: number }[];
      return row;
    };

    it('shows overview numbers equal to what the database holds', async () => {
      // Finished runs of known durations and outcomes, and deliveries of each outcome.
      const durations = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 40];
      for (const [i, seconds] of durations.entries()) {
        await db.query(
          `INSERT INTO sync_runs (id, connection_id, mode, trigger, status, started_at, finished_at, error_code, resources)
           VALUES ($1, $2, 'incremental', 'schedule', $3,
                   now() - interval '2 hours', now() - interval '2 hours' + make_interval(secs => $4), $5, $6)`,
          [
            randomUUID(),
            aliceId,
            i % 5 === 0 ? 'failed' : 'succeeded',
            seconds,
            i === 0 ? 'RATE_LIMITED' : null,
            i === 1
              ? JSON.stringify([
                  {
                    resourceId: 'r',
                    resourceName: 'r',
                    outcome: 'failed',
                    errorCode: 'RATE_LIMITED',
                  },
                ])
              : '[]',
          ],
        );
      }
      for (const status of ['processed', 'processed', 'failed', 'unroutable']) {
        await db.query(
          `INSERT INTO webhook_deliveries (id, provider, delivery_id, status) VALUES ($1, 'google-calendar', $2, $3)`,
          [randomUUID(), randomUUID(), status],
        );
      }
      // Runs the worker finishes meanwhile change the numbers: compare once they are stable.
      const p = 'google-calendar';
      const html = await eventually(async () => {
        const before = await expected();
        const page = await client.page('/admin');
        const after = await expected();
        if (JSON.stringify(before) !== JSON.stringify(after)) return undefined;
        expect(after.finished).toBeGreaterThanOrEqual(durations.length);
        expect(Number(metric(page, `runs:${p}`))).toBe(after.finished);
        expect(metric(page, `success-rate:${p}`)).toBe(
          `${((after.ok / after.finished) * 100).toFixed(1)} %`,
        );
        expect(metric(page, `p95:${p}`)).toBe(`${Number(after.p95).toFixed(1)} s`);
        return page;
      }, 'overview numbers equal to the database');
      expect(metric(html, `deliveries:${p}`)).toBe('1 failed, 2 processed, 1 unroutable');
      expect(metric(html, `connections:${p}`)).toBe('1 active, 1 disconnected');
      expect(Number(metric(html, `rate-limited:${p}`))).toBe(2);
      // The charts have a text alternative.
      expect(html).toMatch(/<svg role="img" aria-labelledby="runs-chart-title runs-chart-desc"/);
      expect(html).toContain('<desc id="runs-chart-desc">Last 24 hours:');
    });

    it('serves Bull Board for every queue under its own CSP, nothing remote', async () => {
      const page = await client.get('/admin/queues');
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).not.toContain('googleapis');
      expect(html).not.toMatch(/(src|href)="https?:/);
      const csp = page.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self' 'unsafe-inline'");
      expect(csp).not.toMatch(/https?:/);
      const api = await client.get('/admin/queues/api/queues');
      expect(api.status).toBe(200);
      const { queues } = (await api.json()) as { queues: { name: string }[] };
      expect(queues.map((q) => q.name).sort()).toEqual(
        [
          'connection-health',
          'pdeck-events',
          'sync',
          'sync-retention',
          'webhook-subscriptions',
          'webhooks',
          'webhooks-retention',
        ].sort(),
      );
      // Its state-changing calls must come from this origin.
      const cross = await fetch(`${t.baseUrl}/admin/queues/api/queues/sync/clean/failed`, {
        method: 'PUT',
        headers: { cookie: client.cookie!, 'sec-fetch-site': 'cross-site' },
      });
      expect(cross.status).toBe(403);
      // The API's own CSP is unchanged elsewhere.
      const docs = await fetch(`${t.baseUrl}/health/live`);
      expect(docs.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    });

    it('shows health, pauses and resumes the schedule, mutes issues, each audited', async () => {
      // Bob's disconnected connection counts as paused (nothing syncs); Alice's is not yet.
      const list = await client.page('/admin/connections?health=paused');
      expect(list).toContain(BOB);
      expect(list).not.toContain(ALICE);
      const detail = await client.page(`/admin/connections/${aliceId}`);
      expect(detail).toMatch(/data-field="health">(healthy|syncing|late|failing)/);
      const paused = await client.post(`/admin/connections/${aliceId}/pause`, {
        csrf: client.csrf!,
      });
      expect(paused.status).toBe(303);
      const after = await client.page(`/admin/connections/${aliceId}`);
      expect(after).toContain('data-field="health">paused');
      expect(after).toContain('Resume schedule');
      expect(await client.page('/admin/connections?health=paused')).toContain(ALICE);
      expect(
        (await client.post(`/admin/connections/${aliceId}/resume`, { csrf: client.csrf! })).status,
      ).toBe(303);
      expect(await client.page(`/admin/connections/${aliceId}`)).not.toContain(
        'data-field="health">paused',
      );

      // An open issue: listed, filterable, muted and unmuted from the console.
      const reported = await t.app
        .get(IssuesService)
        .report(aliceId, 'webhook_subscription', 'subscribe failed: TEMPORARY');
      const issueId = reported!.issue.id;
      expect(await client.page('/admin/connections?openIssue=yes')).toContain(ALICE);
      const issues = await client.page('/admin/issues');
      expect(issues).toContain('webhook_subscription');
      expect(
        (await client.post(`/admin/issues/${issueId}/mute`, { csrf: client.csrf! })).status,
      ).toBe(303);
      expect(await client.page('/admin/issues')).toContain('(muted)');
      expect(
        (await client.post(`/admin/issues/${issueId}/unmute`, { csrf: client.csrf! })).status,
      ).toBe(303);
      expect((await client.post(`/admin/issues/${issueId}/mute`, {})).status).toBe(403);

      const actions = (await db.query(
        `SELECT action, token_id, detail FROM admin_audit
         WHERE action IN ('pause', 'resume', 'issue_mute', 'issue_unmute') ORDER BY at`,
      )) as { action: string; token_id: string; detail: Record<string, unknown> }[];
      expect(actions.map((a) => a.action)).toEqual([
        'pause',
        'resume',
        'issue_mute',
        'issue_unmute',
      ]);
      for (const a of actions) expect(a.token_id).toBe(tokenIdOf(TEST_API_TOKEN));
      expect(actions[2].detail).toEqual({ issueId });
    });

    it('signs out: the session is gone', async () => {
      await client.page('/admin');
      const res = await client.post('/admin/sign-out', { csrf: client.csrf! });
      expect(res.status).toBe(303);
      expect(res.headers.get('set-cookie')).toContain('Max-Age=0');
      expect((await client.get('/admin')).status).toBe(303);
      expect((await client.get('/admin/queues')).status).toBe(303);
    });
  });
});
