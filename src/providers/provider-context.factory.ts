import { Injectable } from '@nestjs/common';
import { ProviderHttpClient } from './http/provider-http-client.js';
import { RateGate } from './rate-budget/rate-gate.js';
import type {
  ConnectionCredentials,
  ProviderContext,
  BoundProviderRequest,
  ProviderHttp,
} from '@pdeck/integration-sdk';

export interface ContextInput {
  provider: string;
  connectionId: string;
  accountId: string;
  settings?: Record<string, unknown>;
  credentials: () => Promise<ConnectionCredentials>;
  signal?: AbortSignal;
  /** Syncs only: the store's versions of the connection's items. */
  knownVersions?: ProviderContext['knownVersions'];
}

/**
 * Builds the per-call context a provider receives. The framework decides where credentials come
 * from (fresh grant during connect, TokenService afterwards); the provider only calls them.
 */
@Injectable()
export class ProviderContextFactory {
  constructor(
    private readonly http: ProviderHttpClient,
    private readonly gate: RateGate,
  ) {}

  create(input: ContextInput): ProviderContext {
    return {
      connectionId: input.connectionId,
      accountId: input.accountId,
      settings: input.settings ?? {},
      credentials: input.credentials,
      http: this.bind(input.provider, input.connectionId, input.signal, input.accountId),
      signal: input.signal,
      ...(input.knownVersions ? { knownVersions: input.knownVersions } : {}),
    };
  }

  bind(
    provider: string,
    connectionId: string,
    signal?: AbortSignal,
    accountId?: string,
  ): ProviderHttp {
    return {
      request: async <T>(req: BoundProviderRequest) => {
        await this.gate.admit(provider, { connectionId, accountId, operation: req.operation });
        return this.http.request<T>({ ...req, provider, signal: req.signal ?? signal });
      },
    };
  }
}
