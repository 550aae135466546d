import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import { inBatches } from '../core/database/in-batches.js';
import { MetricsService } from '../core/metrics/metrics.service.js';
import { RETENTION_BATCH, WebhookDeliveriesService } from './webhook-deliveries.service.js';

export interface WebhookRetentionResult {
  deleted: number;
  stripped: number;
}

/**
 * Keeps webhook_deliveries from growing forever. A finished delivery (processed, ignored,
 * unroutable, failed) loses its body WEBHOOK_BODY_RETENTION_DAYS after it finished and the row
 * itself (the dedupe record) WEBHOOK_DELIVERY_RETENTION_DAYS after; a delivery still `received`
 * is never touched. Run by the webhooks-retention job scheduler (WebhookRetentionProcessor).
 */
@Injectable()
export class WebhookRetentionService {
  private readonly logger = new Logger('WebhookRetention');

  constructor(
    private readonly deliveries: WebhookDeliveriesService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
  ) {}

  async run(): Promise<WebhookRetentionResult> {
    const { webhookBodyDays, webhookDeliveryDays } = this.config.retention;
    const count = (action: string) => (n: number) =>
      this.metrics.retentionRows.inc({ table: 'webhook_deliveries', action }, n);
    // Deleting first, so rows past both windows are not stripped just before they go.
    const deleted = await inBatches(
      (batch) => this.deliveries.deleteFinished(webhookDeliveryDays, batch),
      RETENTION_BATCH,
      count('deleted'),
    );
    const stripped = await inBatches(
      (batch) => this.deliveries.stripBodies(webhookBodyDays, batch),
      RETENTION_BATCH,
      count('stripped'),
    );
    this.logger.log({
      msg: 'webhook deliveries retention pass',
      deleted,
      stripped,
      bodyDays: webhookBodyDays,
      deliveryDays: webhookDeliveryDays,
    });
    return { deleted, stripped };
  }
}
