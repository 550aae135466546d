import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { withQueueTimeout } from '../queue/queue-timeout.js';

/** Request latencies: API calls answer in milliseconds, provider-bound ones can take seconds. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Webhook acks must stay well under providers' deadlines (Slack: 3 s). */
const ACK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5];
/** Receipt-to-processed lag of webhook events: queueing can add seconds to minutes. */
const LAG_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600];
/** Sync runs: a quiet incremental run takes well under a second, a first full sync minutes. */
const RUN_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** The part of a BullMQ Queue the depth gauge reads. */
export interface CountableQueue {
  readonly name: string;
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
  /** BullMQ's getJobs; when present, the oldest waiting job's age is exported too. */
  getJobs?(types: 'wait', start: number, end: number, asc: boolean): Promise<unknown[]>;
}

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'prioritized', 'waiting-children'];

/**
 * Owns a private prom-client Registry rather than the global one: several Nest apps (tests, or
 * api and worker roles in one process) can then each register the same metric names.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests, by route template and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly webhookDeliveries = new Counter({
    name: 'webhook_deliveries_total',
    help: 'Webhook deliveries received, by provider and outcome (accepted, rejected, duplicate...).',
    labelNames: ['provider', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly webhookAckSeconds = new Histogram({
    name: 'webhook_ack_seconds',
    help: 'Time from receiving a webhook delivery to acknowledging it.',
    labelNames: ['provider'] as const,
    buckets: ACK_BUCKETS,
    registers: [this.registry],
  });

  readonly webhookProcessingLagSeconds = new Histogram({
    name: 'webhook_processing_lag_seconds',
    help: 'Time from receiving a webhook delivery to finishing its processing.',
    labelNames: ['provider'] as const,
    buckets: LAG_BUCKETS,
    registers: [this.registry],
  });

  readonly syncRuns = new Counter({
    name: 'sync_runs_total',
    help: 'Sync runs, by provider, mode (full, incremental) and outcome.',
    labelNames: ['provider', 'mode', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly syncRunDuration = new Histogram({
    name: 'sync_run_duration_seconds',
    help: 'Duration of finished sync runs (job start to end), by provider, mode and outcome.',
    labelNames: ['provider', 'mode', 'outcome'] as const,
    buckets: RUN_BUCKETS,
    registers: [this.registry],
  });

  readonly syncItems = new Counter({
    name: 'sync_items_total',
    help: 'Items handled by syncs, by provider and outcome (created, updated, deleted, unchanged).',
    labelNames: ['provider', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly providerRequests = new Counter({
    name: 'provider_requests_total',
    help: 'Outgoing provider API requests, by provider, operation and HTTP status (0: no answer).',
    labelNames: ['provider', 'operation', 'status'] as const,
    registers: [this.registry],
  });

  readonly providerRequestDuration = new Histogram({
    name: 'provider_request_duration_seconds',
    help: 'Duration of outgoing provider API requests, by provider.',
    labelNames: ['provider'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly tokenRefreshes = new Counter({
    name: 'token_refreshes_total',
    help: 'Access-token refreshes sent to providers, by provider and outcome (succeeded, dead_grant, failed).',
    labelNames: ['provider', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly rateLimitWaits = new Counter({
    name: 'rate_limit_waits_total',
    help: 'Provider requests held by the shared rate budgets, by provider and outcome (waited: slept in process; deferred: the job was re-queued; blocked: a provider 429 paused calls).',
    labelNames: ['provider', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly rateLimitWaitSeconds = new Counter({
    name: 'rate_limit_wait_seconds_total',
    help: 'Time provider requests spent waiting for rate budgets, by provider.',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });

  readonly retentionRows = new Counter({
    name: 'retention_rows_total',
    help: 'Rows removed by retention passes and purges, by table and action (deleted, stripped: body removed, purged: disconnect with purgeItems).',
    labelNames: ['table', 'action'] as const,
    registers: [this.registry],
  });

  private readonly queues = new Map<string, CountableQueue>();

  readonly queueJobs = new Gauge({
    name: 'queue_jobs',
    help: 'Jobs in each BullMQ queue, by state (read from Redis when scraped).',
    labelNames: ['queue', 'state'] as const,
    registers: [this.registry],
    collect: () => this.collectQueueDepth(),
  });

  readonly queueOldestWaitingAge = new Gauge({
    name: 'queue_oldest_waiting_job_age_seconds',
    help: 'Age of the oldest job waiting in each BullMQ queue (0 when none waits; read from Redis when scraped).',
    labelNames: ['queue'] as const,
    registers: [this.registry],
    collect: () => this.collectOldestWaiting(),
  });

  readonly connectionIssuesOpen = new Gauge({
    name: 'connection_issues_open',
    help: 'Open connection issues, by provider and type (set by the connection-health evaluation every minute).',
    labelNames: ['provider', 'type'] as const,
    registers: [this.registry],
  });

  readonly webhookSubscriptionsExpiring = new Gauge({
    name: 'webhook_subscriptions_expiring_soon',
    help: 'Active webhook subscriptions expiring within 6 hours, i.e. not renewed in time (set by the connection-health evaluation).',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });

  constructor() {
    // Process metrics (CPU, memory, event loop lag, GC) go into this registry only.
    collectDefaultMetrics({ register: this.registry });
  }

  /** Adds a queue to the queue_jobs gauge (each module registers the queues it owns). */
  trackQueue(queue: CountableQueue): void {
    this.queues.set(queue.name, queue);
  }

  /**
   * Reads every tracked queue's counts. Bounded in time: BullMQ holds commands while Redis is
   * away, and a scrape must still answer then (the gauge keeps its last values).
   */
  private async collectQueueDepth(): Promise<void> {
    await Promise.all(
      [...this.queues.values()].map(async (queue) => {
        try {
          const counts = await withQueueTimeout(queue.getJobCounts(...QUEUE_STATES), 1_000);
          for (const state of QUEUE_STATES) {
            this.queueJobs.set({ queue: queue.name, state }, counts[state] ?? 0);
          }
        } catch {
          // Redis is away: the values of the last successful scrape stay.
        }
      }),
    );
  }

  /** Like collectQueueDepth: bounded in time, the last values stay while Redis is away. */
  private async collectOldestWaiting(): Promise<void> {
    await Promise.all(
      [...this.queues.values()].map(async (queue) => {
        if (!queue.getJobs) return;
        try {
          const [oldest] = (await withQueueTimeout(queue.getJobs('wait', 0, 0, true), 1_000)) as {
            timestamp?: number;
          }[];
          const age = oldest?.timestamp ? Math.max(0, (Date.now() - oldest.timestamp) / 1000) : 0;
          this.queueOldestWaitingAge.set({ queue: queue.name }, age);
        } catch {
          // Redis is away: the value of the last successful scrape stays.
        }
      }),
    );
  }

  /** The Content-Type matching metrics(): Prometheus text exposition format. */
  get contentType(): string {
    return this.registry.contentType;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
