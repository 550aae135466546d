import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { WORKER_LOCK } from '../core/queue/redis-connection.js';
import { Inject, Logger } from '@nestjs/common';
import { type Job, UnrecoverableError } from 'bullmq';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import { MetricsService } from '../core/metrics/metrics.service.js';
import { withDeadline } from '../core/queue/job-deadline.js';
import type { WebhookParseContext } from '../providers/webhook-contract.js';
import { ItemsRepository } from '../items/items.repository.js';
import { ProviderRegistry } from '../providers/provider-registry.js';
import { type WaitingDelivery, WebhookDeliveriesService } from './webhook-deliveries.service.js';
import { WebhookEventsService } from './webhook-events.service.js';
import { WebhookSubscriptionsStore } from './webhook-subscriptions.store.js';
import { CLOCK, type Clock, WEBHOOKS_QUEUE, type WebhookJobData } from './webhooks.constants.js';

type Outcome = 'processed' | 'ignored' | 'unroutable' | 'skipped';

/** What the parser's lookups found: whether one missed, and every connection they named. */
interface Lookups {
  missed: boolean;
  routed: Set<string>;
}

/**
 * Worker side of the receiver: parses a stored delivery and applies its events. The row, not
 * the job, is the state: a delivery already finished is skipped, so a re-enqueued job (sweeper)
 * or a redelivered one never applies twice.
 */
@Processor(WEBHOOKS_QUEUE, { concurrency: 10, ...WORKER_LOCK })
export class WebhookProcessor extends WorkerHost {
  private readonly logger = new Logger('WebhookProcessor');
  @Inject(APP_CONFIG) private readonly config!: ResolvedAppConfig;

  constructor(
    private readonly deliveries: WebhookDeliveriesService,
    private readonly events: WebhookEventsService,
    private readonly subscriptions: WebhookSubscriptionsStore,
    private readonly registry: ProviderRegistry,
    private readonly metrics: MetricsService,
    private readonly items: ItemsRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    super();
  }

  /**
   * Bounded by WEBHOOK_JOB_TIMEOUT_MS: past it the job fails and is retried (the row, still
   * `received`, is the state), so a statement stuck on a lock cannot hold a worker slot forever.
   */
  async process(job: Job<WebhookJobData>): Promise<Outcome> {
    return withDeadline(this.config.webhookJobTimeoutMs, `webhook job ${job.id}`, () =>
      this.processDelivery(job),
    );
  }

  private async processDelivery(job: Job<WebhookJobData>): Promise<Outcome> {
    const row = await this.deliveries.startAttempt(job.data.deliveryId);
    if (!row) return 'skipped';
    const lookups: Lookups = { missed: false, routed: new Set() };
    const { outcome, finished } = await this.handle(row, lookups);
    // The connections it was routed to: a disconnect with purgeItems deletes the row with theirs.
    if (!finished) await this.deliveries.finish(row.id, outcome, null, [...lookups.routed]);
    if (outcome === 'unroutable') {
      this.metrics.webhookDeliveries.inc({ provider: row.provider, outcome });
      this.logger.warn({
        msg: 'webhook delivery matches no connection',
        provider: row.provider,
        deliveryRowId: row.id,
      });
    }
    const lag = (this.clock.now().getTime() - row.receivedAt.getTime()) / 1000;
    this.metrics.webhookProcessingLagSeconds.observe({ provider: row.provider }, Math.max(0, lag));
    return outcome;
  }

  /** `finished`: the row was marked processed with the delivery's item writes. */
  private async handle(
    row: WaitingDelivery,
    lookups: Lookups,
  ): Promise<{ outcome: Exclude<Outcome, 'skipped'>; finished: boolean }> {
    const handler = this.registry.find(row.provider)?.webhooks;
    if (!handler) return { outcome: 'ignored', finished: false };
    const delivery = {
      deliveryId: row.deliveryId,
      body: row.body,
      headers: row.headers,
      receivedAt: row.receivedAt,
    };
    let events;
    try {
      events = await handler.parse(delivery, this.parseContext(row.provider, lookups));
    } catch (error) {
      // The stored body was verified; a body the parser cannot read will not improve on retry.
      if (error instanceof SyntaxError)
        throw new UnrecoverableError(`unparsable delivery: ${error.message}`);
      throw error;
    }
    for (const event of events) lookups.routed.add(event.connectionId);
    if (events.length === 0) {
      return { outcome: lookups.missed ? 'unroutable' : 'ignored', finished: false };
    }
    const finishing = { rowId: row.id, connectionIds: [...lookups.routed] };
    return { outcome: 'processed', finished: await this.events.apply(events, finishing) };
  }

  private parseContext(provider: string, lookups: Lookups): WebhookParseContext {
    return {
      findConnections: async (query) => {
        const found = await this.subscriptions.findConnections(provider, query);
        lookups.missed ||= found.length === 0;
        for (const c of found) lookups.routed.add(c.connectionId);
        return found;
      },
      findSubscription: async (externalId) => {
        const found = await this.subscriptions.findByExternalId(provider, externalId);
        if (found) lookups.routed.add(found.connectionId);
        return found;
      },
      storedItem: (connectionId, kind, externalId) =>
        this.items.storedState(connectionId, kind, externalId),
      now: () => this.clock.now(),
    };
  }

  /** After the last attempt only: the row records the failure, so the sweeper leaves it alone. */
  @OnWorkerEvent('failed')
  async onFailed(job: Job<WebhookJobData> | undefined, error: Error): Promise<void> {
    if (!job) return;
    const final =
      error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (!final) return;
    try {
      const row = await this.deliveries.find(job.data.deliveryId);
      await this.deliveries.finish(job.data.deliveryId, 'failed', error.message);
      this.metrics.webhookDeliveries.inc({
        provider: row?.provider ?? 'unknown',
        outcome: 'failed',
      });
      this.logger.error({
        msg: 'webhook delivery failed',
        deliveryRowId: job.data.deliveryId,
        jobId: job.id,
        error: error.message,
      });
    } catch (recordError) {
      this.logger.error({
        msg: 'could not record a failed webhook delivery',
        jobId: job.id,
        error: (recordError as Error).message,
      });
    }
  }
}
