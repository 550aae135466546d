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
 * tokens: there is no stored connection to refresh from yet. Failures come back through the
 * provider's own error mapper, so callers see the shared code set.
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
    throw provider.mapError(err);
  }
}
