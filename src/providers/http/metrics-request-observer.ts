import { Injectable, Logger } from '@nestjs/common';
import { MetricsService } from '../../core/metrics/metrics.service.js';
import { ProviderRequestObserver, type ProviderResponseInfo } from './request-observer.js';

/** Counts every provider request in provider_requests_total and logs it at debug level. */
@Injectable()
export class MetricsRequestObserver extends ProviderRequestObserver {
  private readonly logger = new Logger('ProviderHttp');

  constructor(private readonly metrics: MetricsService) {
    super();
  }

  observe(info: ProviderResponseInfo): void {
    // Deliberately only these fields: headers, query strings and bodies carry tokens and codes.
    this.logger.debug({ ...info });
    this.metrics.providerRequests.inc({
      provider: info.provider,
      operation: info.operation ?? 'unnamed',
      status: String(info.status),
    });
    this.metrics.providerRequestDuration.observe({ provider: info.provider }, info.ms / 1000);
  }
}
