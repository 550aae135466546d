import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { WORKER_LOCK } from '../core/queue/redis-connection.js';
import { Inject, Logger } from '@nestjs/common';
import { type Job, UnrecoverableError } from 'bullmq';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import { MetricsService } from '../core/metrics/metrics.service.js';
import { withDeadline } from '../core/queue/job-deadline.js';
import type { WebhookEvent, WebhookParseContext } from '@pdeck/integration-sdk';
import { GroupCommit, type Waiting } from '../core/runtime/group-commit.js';
import { ItemsRepository } from '../items/items.repository.js';
import { ProviderRegistry } from '../providers/provider-registry.js';
import { type WaitingDelivery, WebhookDeliveriesService } from './webhook-deliveries.service.js';
import { isItemsEvent, WebhookEventsService } from './webhook-events.service.js';
import { WebhookSubscriptionsStore } from './webhook-subscriptions.store.js';
import { CLOCK, type Clock, WEBHOOKS_QUEUE, type WebhookJobData } from './webhooks.constants.js';

type Outcome = 'processed' | 'ignored' | 'unroutable' | 'skipped';

/**
 * Shares one answer among callers asking the same question while it is in flight; once it is
 * answered (or failed) the next caller asks again, so nothing is ever served stale.
 */
function inFlightOnce(): <T>(key: string, ask: () => Promise<T>) => Promise<T> {
  const asking = new Map<string, Promise<unknown>>();
  return <T>(key: string, ask: () => Promise<T>): Promise<T> => {
    let answer = asking.get(key) as Promise<T> | undefined;
    if (!answer) {
      answer = ask();
      asking.set(key, answer);
      const forget = () => asking.delete(key);
      answer.then(forget, forget);
    }
    return answer;
  };
}

/** What the parser's lookups found: whether one missed, and every connection they named. */
interface Lookups {
  missed: boolean;
  routed: Set<string>;
}

/** Deliveries per grouped statement or transaction; more wait for the next group. */
export const DELIVERY_GROUP_LIMIT = 50;

/** A stored delivery with its parsed events (null: no handler for its provider). */
interface Parsed {
  row: WaitingDelivery;
  events: WebhookEvent[] | null;
  lookups: Lookups;
}

/**
 * Worker side of the receiver: parses stored deliveries and applies their events. The row, not
 * the job, is the state: a delivery already finished is skipped, so a re-enqueued job (sweeper)
 * or a redelivered one never applies twice.
 *
 * The jobs of this process share their round trips to Postgres where that is safe (GroupCommit):
 * one statement counts the attempts and reads the rows of the jobs that start together, equal
 * routing lookups in flight at once are asked once, and deliveries that carry only item changes
 * are written, and marked processed, by one transaction per group. Under load that turns about
 * eight round trips per delivery into two or three; an idle worker handles a lone job at once.
 * Parsing and everything else stays per job, so a slow delivery holds up no other. Each job
 * still succeeds or fails on its own: a group whose transaction fails is retried delivery by
 * delivery before any job fails.
 */
@Processor(WEBHOOKS_QUEUE, { concurrency: 10, ...WORKER_LOCK })
export class WebhookProcessor extends WorkerHost {
  private readonly logger = new Logger('WebhookProcessor');
  @Inject(APP_CONFIG) private readonly config!: ResolvedAppConfig;
  private readonly attempts = new GroupCommit<string, WaitingDelivery | null>(
    DELIVERY_GROUP_LIMIT,
    async (jobs) => {
      const rows = await this.deliveries.startAttempts(jobs.map((j) => j.input));
      for (const job of jobs) job.resolve(rows.get(job.input) ?? null);
    },
  );
  private readonly writes = new GroupCommit<Parsed, void>(DELIVERY_GROUP_LIMIT, (group) =>
    this.writeTogether(group),
  );
  private readonly lookups = inFlightOnce();

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
    const row = await this.attempts.submit(job.data.deliveryId);
    if (!row) return 'skipped';
    const parsed = await this.parse(row);
    let outcome: Outcome;
    if (parsed.events?.length && parsed.events.every(isItemsEvent)) {
      await this.writes.submit(parsed);
      outcome = 'processed';
    } else {
      outcome = await this.settle(parsed);
    }
    const lag = (this.clock.now().getTime() - row.receivedAt.getTime()) / 1000;
    this.metrics.webhookProcessingLagSeconds.observe({ provider: row.provider }, Math.max(0, lag));
    return outcome;
  }

  /**
   * Item-only deliveries in one transaction. If it fails, none was applied: each is then
   * settled alone, so one delivery that cannot be written fails only its own job.
   */
  private async writeTogether(group: Waiting<Parsed, void>[]): Promise<void> {
    if (group.length > 1) {
      try {
        await this.events.applyItems(
          group.map(({ input: { row, events, lookups } }) => ({
            events: (events ?? []).filter(isItemsEvent),
            delivery: { rowId: row.id, connectionIds: [...lookups.routed] },
          })),
        );
        for (const job of group) job.resolve();
        return;
      } catch (error) {
        this.logger.warn({
          msg: 'webhook group failed; writing its deliveries one by one',
          deliveries: group.length,
          error: (error as Error).message,
        });
      }
    }
    await Promise.all(
      group.map(async (job) => {
        try {
          await this.settle(job.input);
          job.resolve();
        } catch (error) {
          job.reject(error);
        }
      }),
    );
  }

  /** One delivery on its own: applies its events and records how it ended. */
  private async settle({ row, events, lookups }: Parsed): Promise<Exclude<Outcome, 'skipped'>> {
    let outcome: Exclude<Outcome, 'skipped'> = 'ignored';
    let finished = false;
    if (events?.length) {
      outcome = 'processed';
      finished = await this.events.apply(events, {
        rowId: row.id,
        connectionIds: [...lookups.routed],
      });
    } else if (events && lookups.missed) {
      outcome = 'unroutable';
    }
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
    return outcome;
  }

  /** The delivery's events (null: no handler for its provider) and what its lookups found. */
  private async parse(row: WaitingDelivery): Promise<Parsed> {
    const lookups: Lookups = { missed: false, routed: new Set() };
    const handler = this.registry.find(row.provider)?.webhooks;
    if (!handler) return { row, events: null, lookups };
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
    return { row, events, lookups };
  }

  /**
   * Routing lookups for one delivery. Equal lookups in flight at the same time are asked once:
   * under load, deliveries of one workspace or board name the same account or subscription.
   */
  private parseContext(provider: string, lookups: Lookups): WebhookParseContext {
    return {
      findConnections: async (query) => {
        const found = await this.lookups(`c\u0000${provider}\u0000${JSON.stringify(query)}`, () =>
          this.subscriptions.findConnections(provider, query),
        );
        lookups.missed ||= found.length === 0;
        for (const c of found) lookups.routed.add(c.connectionId);
        return found;
      },
      findSubscription: async (externalId) => {
        const found = await this.lookups(`s\u0000${provider}\u0000${externalId}`, () =>
          this.subscriptions.findByExternalId(provider, externalId),
        );
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
