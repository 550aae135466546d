import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { getQueueToken } from '@nestjs/bullmq';
import type { Job, Queue } from 'bullmq';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionStore } from '../../src/auth/connection-store.service.js';
import { LOCK_USER_FEED_SQL } from '../../src/items/item-page.sql.js';
import { SYNC_QUEUE } from '../../src/sync/sync.constants.js';
import { WEBHOOKS_QUEUE } from '../../src/webhooks/webhooks.constants.js';
import { storeTasksConnection } from '../support/active-connection.js';
import { eventually } from '@pdeck/integration-sdk/testing';
import { startTestApp, TEST_API_TOKEN, type TestApp } from '../support/test-app.js';
import { TASKS_ORIGIN, TEST_SYNC_ID, TestSyncProvider } from '../support/test-sync-provider.js';
import { startWebhookTestApp, type WebhookTestApp } from '../support/webhook-test-kit.js';

/** A job whose last attempt failed with `pattern`, waiting for its retry or failed for good. */
async function failedWith(queue: Queue, jobId: string, pattern: RegExp): Promise<Job> {
  return eventually(
    async () => {
      const job = await queue.getJob(jobId);
      return job?.failedReason && pattern.test(job.failedReason) ? job : undefined;
    },
    `job ${jobId} to fail with ${pattern}`,
    {
      timeoutMs: 12_000,
      debug: async () => {
        const job = await queue.getJob(jobId);
        return { state: await job?.getState(), failedReason: job?.failedReason };
      },
    },
  );
}

/**
 * SYNC_JOB_TIMEOUT_MS and WEBHOOK_JOB_TIMEOUT_MS: BullMQ has no per-job timeout of its own, so a
 * hung provider call or a statement waiting on a lock would hold a worker slot forever.
 */
describe('job deadlines', () => {
  describe('a sync job whose provider stops answering', () => {
    let t: TestApp;
    let api: http.Server;
    let connectionId: string;
    const hung: { aborted: boolean }[] = [];

    beforeAll(async () => {
      // A paged task API whose second page never comes (no response, connection left open).
      api = http.createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://x');
        const json = (body: unknown) =>
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        if (url.pathname === '/lists') return json({ items: [{ id: 'list-1', name: 'Inbox' }] });
        if (url.searchParams.get('pageToken') === null) {
          return json({
            items: Array.from({ length: 5 }, (_, i) => ({
              id: `t${i}`,
              listId: 'list-1',
              title: `Task ${i}`,
              version: 1,
              deleted: false,
            })),
            nextPageToken: '5.1',
          });
        }
        const call = { aborted: false };
        hung.push(call);
        res.on('close', () => (call.aborted = !res.writableEnded));
      });
      await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
      const origin = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
      t = await startTestApp({
        integrations: [TestSyncProvider],
        // Shorter than the HTTP client's own 15 s timeout: only the job deadline can end the call.
        env: {
          PROVIDER_ORIGINS: JSON.stringify({ [TASKS_ORIGIN]: origin }),
          SYNC_JOB_TIMEOUT_MS: '1000',
        },
        configure: (config) => {
          config.providerCredentials[TEST_SYNC_ID] = { clientId: 'cid', clientSecret: 'cs' };
        },
      });
      connectionId = await storeTasksConnection(
        t.app.get(ConnectionStore),
        TEST_SYNC_ID,
        'user-deadline',
      );
    });
    afterAll(async () => {
      await t?.close();
      api?.closeAllConnections();
      await new Promise((resolve) => api?.close(resolve));
    });

    it('fails at its deadline, aborts the hung request and keeps the pages already committed', async () => {
      const res = await fetch(`${t.baseUrl}/v1/connections/${connectionId}/sync`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_API_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ mode: 'full' }),
      });
      expect(res.status).toBe(202);
      const { syncRunId } = (await res.json()) as { syncRunId: string };
      const queue = t.app.get<Queue>(getQueueToken(SYNC_QUEUE));
      const job = await failedWith(queue, syncRunId, /exceeded its deadline of 1000 ms/);
      // Not given up: the retry resumes from the committed page.
      expect(['delayed', 'waiting', 'active']).toContain(await job.getState());
      await eventually(() => (hung[0]?.aborted ? true : undefined), 'the hung call to be aborted');
      const [{ n }] = await t.app
        .get(DataSource)
        .query('SELECT count(*)::int AS n FROM items WHERE connection_id = $1', [connectionId]);
      expect(n).toBe(5);
    });
  });

  describe('a webhook job waiting on a user feed lock held elsewhere', () => {
    let t: WebhookTestApp;
    let holder: pg.Client;

    beforeAll(async () => {
      // No statement_timeout: only the job deadline can end the wait.
      t = await startWebhookTestApp({
        WEBHOOK_JOB_TIMEOUT_MS: '1000',
        DATABASE_STATEMENT_TIMEOUT_MS: '0',
      });
      holder = new pg.Client({ connectionString: t.database.url });
      await holder.connect();
    });
    afterAll(async () => {
      await holder?.end().catch(() => undefined);
      await t?.close();
    });

    it('fails the attempt at the deadline, and the retry applies the delivery once the lock is free', async () => {
      await holder.query('BEGIN');
      await holder.query(LOCK_USER_FEED_SQL, ['user-hooks']);
      let released = false;
      try {
        const res = await t.postSigned({
          id: 'd-locked',
          account: 'tasks-account',
          type: 'items',
          upserts: [{ id: 't-locked', listId: 'list-1', title: 'Waited', version: 1 }],
        });
        expect(res.status).toBe(200);
        const [row] = await t.deliveryRows('d-locked');
        const queue = t.app.get<Queue>(getQueueToken(WEBHOOKS_QUEUE));
        await failedWith(queue, row.id, /exceeded its deadline of 1000 ms/);
        await holder.query('COMMIT');
        released = true;
        expect(await t.waitForFinal('d-locked', 20_000)).toBe('processed');
      } finally {
        if (!released) await holder.query('ROLLBACK').catch(() => undefined);
      }
    });
  });
});
