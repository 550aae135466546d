import { Readable } from 'node:stream';
import { PayloadTooLargeException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { describe, expect, it, vi } from 'vitest';
import {
  keepUnparsableWebhookBodies,
  WEBHOOK_BODY_LIMIT_BYTES,
  webhookBody,
} from './webhook-raw-body.js';

const parseFailure = Object.assign(new SyntaxError('Unexpected token'), {
  type: 'entity.parse.failed',
  status: 400,
});

function run(err: unknown, req: Partial<Request> & { rawBody?: Buffer }): unknown[] {
  const next = vi.fn();
  keepUnparsableWebhookBodies(err, req as Request, {} as Response, next);
  return next.mock.calls[0];
}

describe('keepUnparsableWebhookBodies', () => {
  it('lets a body the JSON parser rejected through as raw bytes', () => {
    const req = { rawBody: Buffer.from('{"a":'), body: {} };
    expect(run(parseFailure, req)).toEqual([]);
    expect(req.body).toBeUndefined();
  });

  it('passes every other parser error on unchanged (413 stays 413)', () => {
    const tooLarge = Object.assign(new Error('request entity too large'), {
      type: 'entity.too.large',
      status: 413,
    });
    expect(run(tooLarge, { rawBody: Buffer.from('x') })).toEqual([tooLarge]);
    // Without the kept bytes nobody could verify the request: the 400 stands.
    expect(run(parseFailure, {})).toEqual([parseFailure]);
  });
});

describe('webhookBody', () => {
  const streamed = (chunks: Buffer[]) =>
    Object.assign(Readable.from(chunks), {}) as unknown as Request;

  it('prefers the bytes the parser kept, and reads unparsed content types itself', async () => {
    const kept = Buffer.from('kept');
    expect(await webhookBody(Object.assign(streamed([]), { rawBody: kept }))).toBe(kept);
    const body = await webhookBody(streamed([Buffer.from('plain '), Buffer.from('text')]));
    expect(body.toString()).toBe('plain text');
  });

  it('refuses more than the limit with 413', async () => {
    const big = [Buffer.alloc(WEBHOOK_BODY_LIMIT_BYTES), Buffer.alloc(1)];
    await expect(webhookBody(streamed(big))).rejects.toBeInstanceOf(PayloadTooLargeException);
  });
});
