import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger } from '@nestjs/common';
import { type Job, UnrecoverableError } from 'bullmq';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import { retryAfterMs as readRetryAfterMs } from '@pdeck/integration-sdk';
import { DELIVERY_TIMEOUT_MS, PDECK_EVENTS_QUEUE } from './events.constants.js';
import { pdeckBackoffStrategy, RetryAfterError } from './pdeck-backoff.js';
import { type PdeckEventJob, serializeEnvelope } from './pdeck-event.js';
import {
  type StandardWebhookHeaders,
  standardWebhookHeaders,
  webhookFor,
} from './standard-webhooks.js';

/** Statuses PDeck may answer while it will accept the same event later. */
const RETRYABLE_4XX = new Set([408, 409, 429]);

/**
 * Delivers queued events to PDeck, signed per Standard Webhooks. Registered in worker processes
 * only (EventsWorkerModule). The custom backoff strategy must live in the
 * Worker's settings: BullMQ resolves non-builtin backoff types there, not on the queue.
 */
@Processor(PDECK_EVENTS_QUEUE, {
  concurrency: 5,
  settings: { backoffStrategy: pdeckBackoffStrategy },
})
export class PdeckEventsProcessor extends WorkerHost {
  private readonly logger = new Logger('PdeckEvents');

  constructor(@Inject(APP_CONFIG) private readonly config: ResolvedAppConfig) {
    super();
    const secret = config.pdeckEvents?.secret;
    if (secret !== undefined && !isUsableSecret(secret)) {
      this.logger.error(
        'PDECK_EVENTS_SECRET starts with whsec_ but the rest is not a standard base64 key: ' +
          'notifications to PDeck will fail until it is fixed',
      );
    }
  }

  async process(job: Job<PdeckEventJob>): Promise<void> {
    const event = job.data;
    const attempt = job.attemptsMade + 1;
    const log = (status: number | string, level: 'log' | 'warn' = 'warn') =>
      this.logger[level]({ eventId: event.id, type: event.type, attempt, status });

    const target = this.config.pdeckEvents;
    if (!target) {
      // Queued while the feature was on, consumed by a worker where it is off: dead-letter it
      // (visible and retryable from the dashboard) instead of silently dropping it.
      log('not_configured');
      throw new UnrecoverableError('PDeck events are not configured in this process');
    }

    // Same webhook-id on every attempt so PDeck can deduplicate; webhook-timestamp is the time of
    // this attempt, as the spec intends, so a late retry still passes PDeck's replay window.
    const body = serializeEnvelope(event);
    let signed: StandardWebhookHeaders;
    try {
      signed = standardWebhookHeaders({ id: event.id, body, secret: target.secret });
    } catch {
      // A `whsec_` secret that is not valid base64 (no receiver could load it either): dead-letter
      // every event, visible and retryable once the secret is fixed, rather than retry for hours.
      log('invalid_secret');
      throw new UnrecoverableError('PDECK_EVENTS_SECRET is not a usable signing key');
    }

    let response: Response;
    try {
      response = await fetch(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...signed,
        },
        body,
        // A redirect is a failure under Standard Webhooks: the signed request must not move.
        redirect: 'manual',
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
    } catch (err) {
      const status = (err as Error).name === 'TimeoutError' ? 'timeout' : 'network_error';
      log(status);
      // Not the original error: its message may echo the URL.
      throw new Error(`PDeck delivery failed: ${status}`);
    }
    // The body is not needed; releasing it frees the connection for reuse.
    await response.body?.cancel().catch(() => undefined);

    const { status } = response;
    if (status >= 200 && status < 300) {
      log(status, 'log');
      return;
    }
    log(status);
    if (status >= 400 && status < 500 && !RETRYABLE_4XX.has(status)) {
      // PDeck rejects this event as such (bad signature, unknown type...): retrying cannot help.
      throw new UnrecoverableError(`PDeck rejected the event: HTTP ${status}`);
    }
    const retryAfterMs = readRetryAfterMs(response.headers.get('retry-after'));
    if (retryAfterMs !== undefined) {
      throw new RetryAfterError(`PDeck answered HTTP ${status}`, retryAfterMs);
    }
    throw new Error(`PDeck answered HTTP ${status}`);
  }
}

function isUsableSecret(secret: string): boolean {
  try {
    webhookFor(secret);
    return true;
  } catch {
    return false;
  }
}
