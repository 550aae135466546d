import { asProviderError } from '../../providers/errors/provider-error.js';
import type { ProviderContextFactory } from '../../providers/provider-context.factory.js';
import type {
  AccountIdentity,
  ConnectionCredentials,
  IntegrationProvider,
} from '../../providers/integration-provider.js';

/** Marks the context of a grant that has no connection row yet. */
export const PENDING_CONNECTION_ID = 'pending';

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
    connectionId: PENDING_CONNECTION_ID,
    accountId: '',
    credentials: async () => credentials,
  });
  try {
    return await provider.fetchIdentity(ctx);
  } catch (err) {
    throw asProviderError(err, provider.catalog.id);
  }
}
