import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Request latencies: API calls answer in milliseconds, provider-bound ones can take seconds. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Webhook acks must stay well under providers' deadlines (Slack: 3 s). */
const ACK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5];
/** Receipt-to-processed lag of webhook events: queueing can add seconds to minutes. */
const LAG_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600];

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

  readonly syncItems = new Counter({
    name: 'sync_items_total',
    help: 'Items written by syncs, by provider and operation (created, updated, deleted).',
    labelNames: ['provider', 'op'] as const,
    registers: [this.registry],
  });

  readonly providerRequests = new Counter({
    name: 'provider_requests_total',
    help: 'Outgoing provider API requests, by provider, operation and status.',
    labelNames: ['provider', 'operation', 'status'] as const,
    registers: [this.registry],
  });

  constructor() {
    // Process metrics (CPU, memory, event loop lag, GC) go into this registry only.
    collectDefaultMetrics({ register: this.registry });
  }

  /** The Content-Type matching metrics(): Prometheus text exposition format. */
  get contentType(): string {
    return this.registry.contentType;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
