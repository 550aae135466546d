import type { ResolvedAppConfig } from '../core/config/app-config.js';
import { MetricsService } from '../core/metrics/metrics.service.js';
import { MetricsRequestObserver } from './http/metrics-request-observer.js';
import { ProviderHttpClient } from './http/provider-http-client.js';
import { ProviderContextFactory } from './provider-context.factory.js';
import { OPEN_RATE_GATE } from './rate-budget/rate-gate.js';

/**
 * The framework's HTTP client outside Nest, for tests of provider code against a local fake:
 * origin overrides from `config.providerOrigins`, requests counted in a private metrics registry.
 */
export function standaloneHttpClient(config: ResolvedAppConfig): ProviderHttpClient {
  return new ProviderHttpClient(config, new MetricsRequestObserver(new MetricsService()));
}

/**
 * A context factory outside Nest, for unit tests of a provider: no shared rate budgets (the open
 * gate is named here on purpose; inside the app every context goes through the Redis budgets).
 */
export function standaloneContextFactory(config: ResolvedAppConfig): ProviderContextFactory {
  return new ProviderContextFactory(standaloneHttpClient(config), OPEN_RATE_GATE);
}
