import { randomUUID } from 'node:crypto';
import {
  asProviderError,
  type AccountIdentity,
  type ConnectionCredentials,
  type IntegrationProvider,
} from '@pdeck/integration-sdk';
import type { ProviderContextFactory } from '../../providers/provider-context.factory.js';

/**
 * The context id of a grant that has no connection row yet: one per grant, so per-connection
 * rate budgets (and blocks) count each new grant on its own. A shared id made every concurrent
 * connect of a deployment share one connection's budget (Google: 300 calls a minute).
 */
export function pendingConnectionId(): string {
  return `pending-${randomUUID()}`;
}

/**
 * Asks the provider who the just-granted tokens belong to. The context serves exactly these
 * tokens: there is no stored connection to refresh from yet. Failures arrive already mapped
 * by the provider (anything unmapped becomes UNKNOWN), so callers see the shared code set.
 */
export async function identifyGrant(
  contexts: ProviderContextFactory,
  provider: IntegrationProvider,
  credentials: ConnectionCredentials,
): Promise<AccountIdentity> {
  const ctx = contexts.create({
    provider: provider.catalog.id,
    connectionId: pendingConnectionId(),
    accountId: '',
    credentials: async () => credentials,
  });
  try {
    return await provider.fetchIdentity(ctx);
  } catch (err) {
    throw asProviderError(err, provider.catalog.id);
  }
}
