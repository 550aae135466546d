import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger } from '@nestjs/common';
import { type Job, UnrecoverableError } from 'bullmq';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import { DELIVERY_TIMEOUT_MS, PDECK_EVENTS_QUEUE } from './events.constants.js';
import { parseRetryAfter, pdeckBackoffStrategy, RetryAfterError } from './pdeck-backoff.js';
import { type PdeckEventJob, serializeEnvelope } from './pdeck-event.js';
import { signPayload } from './standard-webhooks.js';

/** Statuses PDeck may answer while it will accept the same event later. */
const RETRYABLE_4XX = new Set([408, 409, 429]);

/**
 * Delivers queued events to PDeck, signed per Standard Webhooks. Registered in worker processes
 * only (EventsModule.forRoot({ worker: true })). The custom backoff strategy must live in the
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
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = signPayload({ id: event.id, timestamp, body, secret: target.secret });

    let response: Response;
    try {
      response = await fetch(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': event.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signature,
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
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    if (retryAfterMs !== undefined) {
      throw new RetryAfterError(`PDeck answered HTTP ${status}`, retryAfterMs);
    }
    throw new Error(`PDeck answered HTTP ${status}`);
  }
}
