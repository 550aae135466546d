import { PayloadTooLargeException } from '@nestjs/common';
import type { ErrorRequestHandler, Request } from 'express';

/** Same limit as the app's body parsers (BODY_LIMIT): larger deliveries get 413. */
export const WEBHOOK_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * The global JSON parser rejects a body it cannot parse (a mutated byte, or a bare JSON scalar in
 * strict mode) with a 400 before any route runs. On webhook routes that would answer a forged
 * request with "malformed" instead of "unauthenticated", so for those routes a parse failure is
 * dropped and the request goes on with the raw bytes the parser already kept (rawBody: true):
 * the provider verifies first, and only an authentic malformed body becomes a 400. Every other
 * parser error (413 too large, 415 charset) passes through unchanged.
 */
export const keepUnparsableWebhookBodies: ErrorRequestHandler = (err, req, _res, next) => {
  const failure = err as { type?: unknown; status?: unknown };
  const rawBody = (req as Request & { rawBody?: unknown }).rawBody;
  if (failure?.type === 'entity.parse.failed' && Buffer.isBuffer(rawBody)) {
    req.body = undefined;
    return next();
  }
  next(err);
};

/**
 * The body bytes of a webhook call: what the JSON / urlencoded parsers kept, or, for content
 * types no parser handles (text/plain), the stream read here under the same limit. Google push
 * sends no body at all: an empty buffer.
 */
export async function webhookBody(req: Request & { rawBody?: Buffer }): Promise<Buffer> {
  if (Buffer.isBuffer(req.rawBody)) return req.rawBody;
  if (req.readableEnded) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Stop buffering, not reading: destroying the socket would hide the 413 from the caller.
    if (size > WEBHOOK_BODY_LIMIT_BYTES) continue;
    chunks.push(chunk);
  }
  if (size > WEBHOOK_BODY_LIMIT_BYTES) throw new PayloadTooLargeException();
  return Buffer.concat(chunks);
}
