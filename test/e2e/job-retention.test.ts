import { getQueueToken } from '@nestjs/bullmq';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { JobsOptions, Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTION_EVENTS, type ConnectionEvent } from '../../src/auth/connection-events.js';
import { PDECK_EVENTS_QUEUE } from '../../src/events/events.constants.js';
import { PdeckNotifier } from '../../src/events/pdeck-notifier.service.js';
import {
  SYNC_RETENTION_QUEUE,
  SYNC_RETENTION_SCHEDULER_ID,
} from '../../src/sync/sync-runs-retention.processor.js';
import { schedulerId, SYNC_QUEUE } from '../../src/sync/sync.constants.js';
import {
  WEBHOOKS_RETENTION_QUEUE,
  WEBHOOKS_RETENTION_SCHEDULER_ID,
} from '../../src/webhooks/webhook-retention.processor.js';
import {
  RENEWALS_SCHEDULER_ID,
  WEBHOOK_SUBSCRIPTIONS_QUEUE,
  WEBHOOKS_QUEUE,
} from '../../src/webhooks/webhooks.constants.js';
import { eventually } from '@pdeck/integration-sdk/testing';
import { freePort } from '../support/test-app.js';
import { startWebhookTestApp, type WebhookTestApp } from '../support/webhook-test-kit.js';

const DAY = 86_400;
const EVERY_STATE = ['completed', 'failed', 'waiting', 'active', 'delayed', 'prioritized'] as const;

/**
 * Redis runs with noeviction: a finished job kept forever is a slow leak that ends with Redis
 * refusing writes. Every job and every scheduler template the service creates must bound both its
 * completed and its failed copies by count and by age (or be removed at once).
 */
function expectBounded(opts: JobsOptions | undefined, where: string): void {
  for (const key of ['removeOnComplete', 'removeOnFail'] as const) {
    const keep = opts?.[key];
    if (keep === true) continue; // removed as soon as it finishes
    expect(keep, `${where}: ${key}`).toEqual({
      age: expect.any(Number),
      count: expect.any(Number),
    });
    const { age, count } = keep as { age: number; count: number };
    expect(age, `${where}: ${key}.age`).toBeGreaterThan(0);
    expect(age, `${where}: ${key}.age`).toBeLessThanOrEqual(30 * DAY);
    expect(count, `${where}: ${key}.count`).toBeGreaterThan(0);
    expect(count, `${where}: ${key}.count`).toBeLessThanOrEqual(10_000);
  }
}

describe('BullMQ job retention: bounded by count and age on every queue (options as stored in Redis)', () => {
  let t: WebhookTestApp;
  const queue = (name: string): Queue => t.app.get<Queue>(getQueueToken(name), { strict: false });

  beforeAll(async () => {
    // PDeck is down for the whole test: notifications fail and retry.
    const closedPort = await freePort();
    t = await startWebhookTestApp({
      PDECK_EVENTS_URL: `http://127.0.0.1:${closedPort}/events`,
      PDECK_EVENTS_SECRET: 'job-retention-test-secret-0123456789',
    });
    // What a finished connect flow announces: Sync schedules and requests a full sync, Webhooks
    // queues the subscribe job.
    const connected: ConnectionEvent = {
      connectionId: t.connectionId,
      userId: 'user-hooks',
      provider: 'test-hooks',
    };
    await t.app.get(EventEmitter2).emitAsync(CONNECTION_EVENTS.created, connected);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Jobs of a queue in any state, once at least one of `name` exists. */
  async function jobsOf(queueName: string, name?: string) {
    return eventually(
      async () => {
        const jobs = (await queue(queueName).getJobs([...EVERY_STATE])).filter(
          (job) => job && (!name || job.name === name),
        );
        return jobs.length > 0 ? jobs : undefined;
      },
      `a ${name ?? 'job'} in the ${queueName} queue`,
    );
  }

  async function templateOf(queueName: string, id: string): Promise<JobsOptions | undefined> {
    const scheduler = await eventually(
      () => queue(queueName).getJobScheduler(id),
      `scheduler ${id} on ${queueName}`,
    );
    return scheduler.template?.opts as JobsOptions | undefined;
  }

  it('sync: runs and the per-connection scheduler template', async () => {
    // Connecting requested a full sync (a `run` job) and installed the connection's scheduler.
    // Ticks are removed once done (`true`); their failed copies are bounded like runs.
    for (const job of await jobsOf(SYNC_QUEUE, 'run')) expectBounded(job.opts, 'sync run');
    expectBounded(await templateOf(SYNC_QUEUE, schedulerId(t.connectionId)), 'sync tick');
  });

  it('webhooks: deliveries', async () => {
    expect(
      (
        await t.postSigned({
          id: 'retention-check',
          account: 'tasks-account',
          type: 'items',
          upserts: [{ id: 't-retention', listId: 'list-1', title: 'x', version: 1 }],
        })
      ).status,
    ).toBe(200);
    const [row] = await t.deliveryRows('retention-check');
    const job = await eventually(() => queue(WEBHOOKS_QUEUE).getJob(row.id), 'the delivery job');
    expectBounded(job.opts, 'webhook delivery');
  });

  it('webhook subscriptions: subscribe jobs and the renewals scheduler template', async () => {
    for (const job of await jobsOf(WEBHOOK_SUBSCRIPTIONS_QUEUE, 'subscribe')) {
      expectBounded(job.opts, 'subscribe');
    }
    expectBounded(await templateOf(WEBHOOK_SUBSCRIPTIONS_QUEUE, RENEWALS_SCHEDULER_ID), 'renewals');
  });

  it('retention schedulers of webhook deliveries and sync runs', async () => {
    expectBounded(
      await templateOf(WEBHOOKS_RETENTION_QUEUE, WEBHOOKS_RETENTION_SCHEDULER_ID),
      'webhook retention',
    );
    expectBounded(
      await templateOf(SYNC_RETENTION_QUEUE, SYNC_RETENTION_SCHEDULER_ID),
      'sync runs retention',
    );
  });

  it('PDeck notifications: the dead letter (failed set) keeps 10,000 jobs for 14 days at most', async () => {
    await t.app.get(PdeckNotifier).notify('connection.deleted', {
      connectionId: t.connectionId,
      userId: 'user-hooks',
      provider: 'test-hooks',
    });
    for (const job of await jobsOf(PDECK_EVENTS_QUEUE)) {
      expectBounded(job.opts, 'PDeck notification');
      expect(job.opts.removeOnFail).toEqual({ age: 14 * DAY, count: 10_000 });
    }
  });
});
