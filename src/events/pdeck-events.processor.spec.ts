import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { type Job, UnrecoverableError } from 'bullmq';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedAppConfig } from '../core/config/app-config.js';
import { RetryAfterError } from './pdeck-backoff.js';
import type { PdeckEventJob } from './pdeck-event.js';
import { PdeckEventsProcessor } from './pdeck-events.processor.js';

/** A PDeck stand-in that verifies with the reference library only, then answers as told. */
let server: Server;
let url = '';
let receiver: Webhook;
let answer: { status: number; headers?: Record<string, string> } = { status: 204 };
const received: { headers: IncomingHttpHeaders; body: string; verified: boolean }[] = [];

beforeAll(async () => {
  Logger.overrideLogger(false);
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let verified = true;
      try {
        receiver.verify(body, req.headers as Record<string, string>);
      } catch (err) {
        if (!(err instanceof WebhookVerificationError)) throw err;
        verified = false;
      }
      received.push({ headers: req.headers, body, verified });
      res.writeHead(verified ? answer.status : 401, answer.headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
});

afterAll(async () => {
  Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']);
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

afterEach(() => {
  received.length = 0;
  answer = { status: 204 };
});

const event: PdeckEventJob<'connection.deleted'> = {
  id: 'evt_01J0000000000000000000000',
  type: 'connection.deleted',
  timestamp: '2026-03-01T10:00:00.000Z',
  data: { connectionId: 'c-1', userId: 'u-1', provider: 'trello', reason: 'user_request' },
};

function processorWith(secret: string): PdeckEventsProcessor {
  const config = { pdeckEvents: { url, secret } } as unknown as ResolvedAppConfig;
  return new PdeckEventsProcessor(config);
}

const job = { data: event, attemptsMade: 0 } as unknown as Job<PdeckEventJob>;

describe('PdeckEventsProcessor signing', () => {
  it('sends requests that Webhook.verify accepts with a whsec_ secret', async () => {
    const secret = `whsec_${Buffer.from('a 24-byte signing key!!!').toString('base64')}`;
    receiver = new Webhook(secret);
    await processorWith(secret).process(job);
    expect(received).toHaveLength(1);
    expect(received[0].verified).toBe(true);
    expect(received[0].headers['webhook-id']).toBe(event.id);
    expect(JSON.parse(received[0].body)).toEqual({
      type: event.type,
      timestamp: event.timestamp,
      data: event.data,
    });
  });

  it('sends requests that Webhook.verify accepts with a plain secret as raw bytes', async () => {
    const secret = 'a plain passphrase, not base64';
    receiver = new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' });
    await processorWith(secret).process(job);
    expect(received.map((r) => r.verified)).toEqual([true]);
  });

  it('is rejected by a receiver holding another secret', async () => {
    receiver = new Webhook(`whsec_${Buffer.from('another 24-byte key!!!!!').toString('base64')}`);
    const secret = `whsec_${Buffer.from('a 24-byte signing key!!!').toString('base64')}`;
    await expect(processorWith(secret).process(job)).rejects.toThrow(UnrecoverableError);
    expect(received.map((r) => r.verified)).toEqual([false]);
  });

  it('passes PDeck Retry-After on, read by the shared HTTP rule', async () => {
    const secret = `whsec_${Buffer.from('a 24-byte signing key!!!').toString('base64')}`;
    receiver = new Webhook(secret);
    answer = { status: 429, headers: { 'retry-after': '42' } };
    const error = await processorWith(secret)
      .process(job)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryAfterError);
    expect((error as RetryAfterError).retryAfterMs).toBe(42_000);

    answer = { status: 503, headers: { 'retry-after': 'in a minute' } };
    const plain = await processorWith(secret)
      .process(job)
      .catch((e: unknown) => e);
    expect(plain).not.toBeInstanceOf(RetryAfterError);
    expect((plain as Error).message).toBe('PDeck answered HTTP 503');
  });

  it('dead-letters without sending when a whsec_ secret is not valid base64', async () => {
    const error = await processorWith('whsec_not-base64-at-all!')
      .process(job)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect((error as Error).message).toBe('PDECK_EVENTS_SECRET is not a usable signing key');
    expect(received).toHaveLength(0);
  });
});
