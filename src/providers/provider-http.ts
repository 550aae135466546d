import type { ProviderRequest, ProviderResponse } from './http/provider-http-client.js';

export type BoundProviderRequest = Omit<ProviderRequest, 'provider'>;

/**
 * The HTTP client a provider receives in its context: already bound to the provider id, with
 * origin overrides, timeouts, rate budgets and secret-free logging applied by the framework.
 */
export interface ProviderHttp {
  request<T = unknown>(req: BoundProviderRequest): Promise<ProviderResponse<T>>;
}
