import {
  BadRequestException,
  GoneException,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { DecryptionError } from '../core/crypto/keyring.js';
import { VerificationFailureLimiter } from '../core/throttle/verification-failure-limiter.js';
import { MetricsService } from '../core/metrics/metrics.service.js';
import { ProviderRegistry } from '../providers/provider-registry.js';
import type {
  VerifyResult,
  WebhookHandler,
  WebhookImmediateResponse,
  WebhookRequest,
  WebhookVerifyContext,
} from '@pdeck/integration-sdk';
import { DeliveryInbox, InboxError } from './delivery-inbox.js';
import type { NewDelivery } from './webhook-deliveries.service.js';
import { WebhookSubscriptionsStore } from './webhook-subscriptions.store.js';
import { CLOCK, type Clock } from './webhooks.constants.js';

/** Postgres failed during a lookup: the caller gets 503 (retry), not 401 (give up). */
class StoreUnavailableError extends Error {}

/**
 * Our own stored secret did not decrypt: our fault (a key this process lacks during a key
 * rotation, a damaged row), not the sender's, so 503 (retry) too, never 401.
 */
class UndecryptableSecretError extends Error {
  constructor(readonly kid: string | undefined) {
    super('stored webhook secret does not decrypt');
  }
}

const INVALID_SIGNATURE = { statusCode: 401, message: 'Invalid webhook signature' };
const NOT_FOUND = { statusCode: 404, message: 'Not Found' };
const MALFORMED = { statusCode: 400, message: 'Malformed webhook body' };
const TOO_MANY_FAILURES = { statusCode: 429, message: 'Too many rejected deliveries; retry later' };
const GONE = { statusCode: 410, message: 'No such subscription: delete this webhook' };
const UNAVAILABLE = { statusCode: 503, message: 'Temporarily unavailable, retry later' };
const OK: WebhookImmediateResponse = {
  status: 200,
  body: '{"ok":true}',
  contentType: 'application/json',
};

/**
 * Verify, store, enqueue, acknowledge. A delivery is acknowledged only once its row is in
 * Postgres; the job is only a wake-up call for the worker (the sweeper re-sends lost ones), so a
 * 200 never depends on Redis having kept anything. Storing and queueing go through DeliveryInbox,
 * which commits concurrent deliveries together.
 */
@Injectable()
export class WebhookReceiverService {
  private readonly logger = new Logger('Webhooks');
  @Inject(VerificationFailureLimiter) private readonly failures!: VerificationFailureLimiter;

  constructor(
    private readonly registry: ProviderRegistry,
    private readonly inbox: DeliveryInbox,
    private readonly subscriptions: WebhookSubscriptionsStore,
    private readonly metrics: MetricsService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** The handler of an enabled provider that takes webhooks; 404 otherwise. */
  handlerOf(provider: string): WebhookHandler {
    const handler = this.registry.isEnabled(provider)
      ? this.registry.get(provider).webhooks
      : undefined;
    if (!handler) throw new NotFoundException(NOT_FOUND);
    return handler;
  }

  /** `clientAddress` (req.ip) is counted when the delivery fails verification, never otherwise. */
  async receive(
    provider: string,
    req: WebhookRequest,
    clientAddress?: string,
  ): Promise<WebhookImmediateResponse> {
    const started = performance.now();
    try {
      return await this.accept(provider, this.handlerOf(provider), req, clientAddress);
    } finally {
      this.metrics.webhookAckSeconds.observe({ provider }, (performance.now() - started) / 1000);
    }
  }

  private async accept(
    provider: string,
    handler: WebhookHandler,
    req: WebhookRequest,
    clientAddress: string | undefined,
  ): Promise<WebhookImmediateResponse> {
    const verdict = await this.verify(provider, handler, req);
    if (!verdict.ok && UNVERIFIED.has(verdict.status ?? 401)) {
      await this.refuseRepeatedFailures(provider, clientAddress);
    }
    if (!verdict.ok) {
      // `gone`: authentic, for a subscription that is not ours; the provider drops it.
      this.count(provider, verdict.status === 410 ? 'gone' : 'rejected');
      this.logger.warn({
        msg: 'webhook rejected',
        provider,
        reason: verdict.reason,
        status: verdict.status ?? 401,
      });
      throw rejection(verdict.status);
    }
    if (verdict.immediateResponse) {
      this.count(provider, 'acknowledged');
      return verdict.immediateResponse;
    }
    const body = req.rawBody.toString('utf8');
    // Postgres text cannot hold NUL; no JSON or form body has one unescaped.
    if (body.includes('\u0000')) {
      this.count(provider, 'rejected');
      throw new BadRequestException(MALFORMED);
    }
    const rowId = await this.store(provider, {
      provider,
      deliveryId: verdict.deliveryId,
      headers: pickHeaders(req.headers, handler.storedHeaders),
      body,
    });
    if (!rowId) {
      this.count(provider, 'duplicate');
      return OK;
    }
    this.count(provider, 'accepted');
    return OK;
  }

  /** Never throws for bad input: a throwing verifier is a rejection (400 for a parse error). */
  private async verify(
    provider: string,
    handler: WebhookHandler,
    req: WebhookRequest,
  ): Promise<VerifyResult> {
    try {
      return await handler.verify(req, this.verifyContext(provider));
    } catch (error) {
      if (error instanceof UndecryptableSecretError) {
        // The key id only (from the stored value), never key material or the secret.
        this.logger.error({
          msg: 'webhook secret does not decrypt: is this key in ENCRYPTION_KEYS?',
          provider,
          kid: error.kid ?? 'unknown',
        });
        this.count(provider, 'unavailable');
        throw new ServiceUnavailableException(UNAVAILABLE);
      }
      if (error instanceof StoreUnavailableError) {
        this.logger.error({ msg: 'webhook lookup failed', provider, error: error.message });
        this.count(provider, 'unavailable');
        throw new ServiceUnavailableException(UNAVAILABLE);
      }
      const status = error instanceof SyntaxError ? 400 : 401;
      return { ok: false, status, reason: `verifier threw ${(error as Error)?.name ?? 'error'}` };
    }
  }

  private verifyContext(provider: string): WebhookVerifyContext {
    const app = this.registry.credentials(provider);
    return {
      appSecret: app.signingSecret ?? app.clientSecret,
      now: () => this.clock.now(),
      findSubscription: async (externalId) => {
        try {
          return await this.subscriptions.findByExternalId(provider, externalId);
        } catch (error) {
          if (error instanceof DecryptionError) throw new UndecryptableSecretError(error.kid);
          throw new StoreUnavailableError((error as Error).message);
        }
      },
      callbackUrlsFor: async (resourceId) => {
        try {
          return await this.subscriptions.callbackUrlsFor(provider, resourceId);
        } catch (error) {
          throw new StoreUnavailableError((error as Error).message);
        }
      },
    };
  }

  /**
   * Stores the delivery and queues its job (grouped with concurrent ones by DeliveryInbox).
   * Stored but not queued is still a 503: the sweeper picks the row up, and the provider's retry
   * is a duplicate.
   */
  private async store(provider: string, delivery: NewDelivery): Promise<string | null> {
    try {
      return await this.inbox.accept(delivery);
    } catch (error) {
      const queued = error instanceof InboxError && error.step === 'queue';
      this.logger[queued ? 'warn' : 'error']({
        msg: queued ? 'webhook stored but not queued' : 'webhook delivery could not be stored',
        provider,
        error: (error as Error).message,
      });
      this.count(provider, 'unavailable');
      throw new ServiceUnavailableException(UNAVAILABLE);
    }
  }

  /**
   * A delivery that failed verification (bad signature or token, unknown subscription) counts
   * against its address; past WEBHOOK_FAILURE_RATE_LIMIT a minute it is answered 429 instead.
   * Verified deliveries never get here, so a provider's burst is never refused.
   */
  private async refuseRepeatedFailures(provider: string, address?: string): Promise<void> {
    const verdict = await this.failures.recordFailure(address);
    if (!verdict.limited) return;
    this.count(provider, 'rejected');
    // Once per address and window: a flood of forgeries must not flood the log as well.
    if (verdict.crossed) {
      this.logger.warn({
        msg: 'webhook verification failures over the limit: refusing with 429',
        provider,
        retryAfterSeconds: verdict.retryAfterSeconds,
      });
    }
    throw new HttpException(TOO_MANY_FAILURES, HttpStatus.TOO_MANY_REQUESTS);
  }

  private count(provider: string, outcome: string): void {
    this.metrics.webhookDeliveries.inc({ provider, outcome });
  }
}

/** Verdict statuses that mean "not verified" (410 and 400 come from authentic requests). */
const UNVERIFIED: ReadonlySet<number> = new Set([401, 404]);

function rejection(status: 400 | 401 | 404 | 410 | undefined): HttpException {
  if (status === 404) return new NotFoundException(NOT_FOUND);
  if (status === 410) return new GoneException(GONE);
  if (status === 400) return new BadRequestException(MALFORMED);
  return new UnauthorizedException(INVALID_SIGNATURE);
}

/** Only what the parser needs; credentials-bearing headers are never stored, whatever is asked. */
function pickHeaders(
  headers: WebhookRequest['headers'],
  wanted: readonly string[] = [],
): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of wanted) {
    const value = headers[name];
    if (value !== undefined && name !== 'authorization' && name !== 'cookie') picked[name] = value;
  }
  return picked;
}
