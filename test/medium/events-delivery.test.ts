import { randomBytes } from 'node:crypto';
import { getQueueToken } from '@nestjs/bullmq';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { TestingModule } from '@nestjs/testing';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CONNECTION_EVENTS } from '../../src/auth/connection-events.js';
import type { ResolvedAppConfig } from '../../src/core/config/app-config.js';
import { PDECK_EVENTS_QUEUE } from '../../src/events/events.constants.js';
import type { ItemsChangedData } from '../../src/events/pdeck-event.js';
import { PdeckNotifier } from '../../src/events/pdeck-notifier.service.js';
import { until } from '@pdeck/integration-sdk/testing';
import { eventsTestConfig, PdeckReceiver, startEventsModule } from '../support/events-test-kit.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { flushPrefix } from '../support/test-services.js';

const databases: TestDatabase[] = [];
afterAll(async () => {
  await Promise.all(databases.map((d) => d.drop()));
});

/** Events are recorded in Postgres first (the outbox): a fresh, migrated database per module. */
async function startModule(config: ResolvedAppConfig, worker: boolean): Promise<TestingModule> {
  const database = await createTestDatabase(inject('databaseUrl'));
  databases.push(database);
  return startEventsModule({ ...config, databaseUrl: database.url }, worker);
}

const testConfig = (env: Record<string, string>): ResolvedAppConfig =>
  eventsTestConfig(env, inject('databaseUrl'));

const TOKENISH = /token|secret|password|credential|authorization/i;

describe('PDeck events delivery (real Redis, real HTTP)', () => {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const receiver = new PdeckReceiver(secret);
  let config: ResolvedAppConfig;
  let moduleRef: TestingModule;
  let queue: Queue;

  beforeAll(async () => {
    await receiver.start();
    config = testConfig({ PDECK_EVENTS_URL: receiver.url, PDECK_EVENTS_SECRET: secret });
    moduleRef = await startModule(config, true);
    queue = moduleRef.get<Queue>(getQueueToken(PDECK_EVENTS_QUEUE));
  });
  afterAll(async () => {
    await moduleRef?.close();
    await receiver.stop();
    if (config) await flushPrefix(config.redisUrl, config.redisKeyPrefix);
  });

  it('retries 500, 500, 429 and delivers exactly once, signed, with ids and counts only', async () => {
    receiver.requests.length = 0;
    receiver.script = [500, 500, 429];
    const data: ItemsChangedData = {
      connectionId: 'c0a8f3e2-0000-4000-8000-000000000001',
      userId: 'user-1',
      provider: 'trello',
      upserted: 3,
      deleted: 1,
      fromChangeSeq: '41',
      toChangeSeq: '45',
    };
    // An extra field slipping through structural typing must not reach PDeck.
    const leaky = { ...data, accessToken: 'ya29.should-never-leave' };
    await moduleRef.get(PdeckNotifier).notify('items.changed', leaky);

    await until(() => receiver.requests.some((r) => r.answered === 200), 'a 200 from PDeck');
    const [job] = await queue.getJobs(['completed', 'active', 'delayed', 'waiting', 'failed']);
    await until(async () => (await job.getState()) === 'completed', 'the job to complete');

    const requests = receiver.requests;
    expect(requests.map((r) => r.answered)).toEqual([500, 500, 429, 200]);
    expect(requests.every((r) => r.valid)).toBe(true);
    expect(requests.filter((r) => r.answered === 200)).toHaveLength(1);
    // One id for every attempt (PDeck dedupes on it), and it is the job id.
    expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(requests[0].headers['webhook-id']).toBe(job.id);
    expect(requests[0].headers['content-type']).toBe('application/json');

    const payload = JSON.parse(requests[3].body);
    expect(payload).toEqual({ type: 'items.changed', timestamp: expect.any(String), data });
    expect(new Date(payload.timestamp).toISOString()).toBe(payload.timestamp);
    expect(JSON.stringify(payload)).not.toMatch(TOKENISH);
    expect(requests[3].body).not.toContain('ya29');
    // The stored job holds the event only, no secret either.
    const stored = await queue.getJob(job.id!);
    expect(JSON.stringify(stored?.data)).not.toMatch(TOKENISH);
    expect(stored?.attemptsMade).toBe(4);
  });

  it('dead-letters an event PDeck rejects with 400 after one attempt', async () => {
    receiver.requests.length = 0;
    receiver.script = [400];
    // Through the in-process domain event, as Auth emits it.
    moduleRef.get(EventEmitter2).emit(CONNECTION_EVENTS.needsReauth, {
      connectionId: 'c0a8f3e2-0000-4000-8000-000000000002',
      userId: 'user-2',
      provider: 'slack',
      reason: 'invalid_grant',
    });

    await until(
      async () => (await queue.getJobCounts('failed')).failed === 1,
      'the job to be dead-lettered',
    );
    const [failed] = await queue.getJobs(['failed']);
    expect(await failed.getState()).toBe('failed');
    expect(failed.attemptsMade).toBe(1);
    expect(failed.data.type).toBe('connection.needs_reauth');
    expect(receiver.requests).toHaveLength(1);
    expect(JSON.parse(receiver.requests[0].body).data).toEqual({
      connectionId: 'c0a8f3e2-0000-4000-8000-000000000002',
      userId: 'user-2',
      provider: 'slack',
      reason: 'invalid_grant',
    });
  });
});

describe('PDeck events when not configured', () => {
  it('notify() enqueues nothing', async () => {
    const config = testConfig({});
    expect(config.pdeckEvents).toBeUndefined();
    const moduleRef = await startModule(config, false);
    try {
      const queue = moduleRef.get<Queue>(getQueueToken(PDECK_EVENTS_QUEUE));
      await moduleRef.get(PdeckNotifier).notify('connection.deleted', {
        connectionId: 'c0a8f3e2-0000-4000-8000-000000000003',
        userId: 'user-3',
        provider: 'jira',
      });
      const counts = await queue.getJobCounts();
      expect(Object.values(counts).every((n) => n === 0)).toBe(true);
    } finally {
      await moduleRef.close();
      await flushPrefix(config.redisUrl, config.redisKeyPrefix);
    }
  });
});
