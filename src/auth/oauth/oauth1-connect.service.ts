import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type ResolvedAppConfig } from '../../core/config/app-config.js';
import {
  isProviderError,
  type IntegrationProvider,
  type OAuth1AuthDescriptor,
} from '@pdeck/integration-sdk';
import { ProviderContextFactory } from '../../providers/provider-context.factory.js';
import { OAuth1FlowService, OAuthStateError } from '../oauth1/oauth1-flow.service.js';
import { type ConsumedStateSink, recordConsumed } from './consumed-state.js';
import { identifyGrant } from './grant-identity.js';
import { invalidState, providerUnavailable, tokenExchangeFailed } from './oauth-errors.js';
import type { FlowResult, FlowStart } from './oauth2-flow.service.js';
import { callbackUrlFor } from './oauth2-strategy.factory.js';
import { ReturnToSeal } from './return-to-seal.js';

/**
 * Adapts OAuth1FlowService (Trello) to the shape of the OAuth 2.0 flow, so the connect service
 * treats both schemes alike: same callback path, same state errors, same results.
 */
@Injectable()
export class OAuth1ConnectService {
  constructor(
    private readonly flow: OAuth1FlowService,
    private readonly contexts: ProviderContextFactory,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
    private readonly seal: ReturnToSeal,
  ) {}

  async start(provider: IntegrationProvider, input: FlowStart): Promise<{ authorizeUrl: string }> {
    try {
      return await this.flow.start({
        provider: input.provider,
        descriptor: descriptorOf(provider),
        userId: input.userId,
        returnTo: input.returnTo,
        callbackUrl: callbackUrlFor(this.config.publicUrl, input.provider),
        callbackParams: (state): Record<string, string> =>
          input.returnTo ? { rt: this.seal.seal(input.provider, state, input.returnTo) } : {},
      });
    } catch (err) {
      if (isProviderError(err))
        throw providerUnavailable(input.provider, 'issuing a request token');
      throw err;
    }
  }

  async complete(
    provider: IntegrationProvider,
    query: Record<string, unknown>,
    sink?: ConsumedStateSink,
  ): Promise<FlowResult> {
    const id = provider.catalog.id;
    const descriptor = descriptorOf(provider);
    // Without a verifier the user did not authorize: spend the state and send them back.
    if (query.oauth_verifier === undefined && typeof query.state === 'string' && query.state) {
      return this.denied(id, query.state, sink);
    }
    let granted;
    try {
      granted = await this.flow.complete({ provider: id, descriptor, query, sink });
    } catch (err) {
      throw mapCompleteError(id, err);
    }
    const credentials = { accessToken: granted.accessToken, tokenSecret: granted.tokenSecret };
    let identity;
    try {
      identity = await identifyGrant(this.contexts, provider, credentials);
    } catch (err) {
      if (isProviderError(err)) throw providerUnavailable(id, `reading the account (${err.code})`);
      throw err;
    }
    return {
      kind: 'granted',
      userId: granted.userId,
      returnTo: granted.returnTo,
      identity,
      credentials,
      scopes: descriptor.authorizeParams?.scope?.split(',').filter(Boolean) ?? [],
    };
  }

  /** The returnTo sealed into our callback URL, for a callback that cannot reach Redis. */
  sealedReturnTo(provider: string, query: Record<string, unknown>): string | undefined {
    const { state, rt } = query;
    if (typeof state !== 'string' || typeof rt !== 'string') return undefined;
    return this.seal.open(provider, state, rt);
  }

  private async denied(
    provider: string,
    state: string,
    sink?: ConsumedStateSink,
  ): Promise<FlowResult> {
    const record = await this.flow.consumeForError(state);
    if (!record) throw invalidState('unknown_or_expired');
    if (record.provider !== provider) throw invalidState('provider_mismatch');
    recordConsumed(sink, record);
    return {
      kind: 'denied',
      userId: record.userId,
      returnTo: record.returnTo,
      error: 'access_denied',
    };
  }
}

function descriptorOf(provider: IntegrationProvider): OAuth1AuthDescriptor {
  const auth = provider.catalog.auth;
  if (auth.scheme !== 'oauth1')
    throw new Error(`${provider.catalog.id} is not an OAuth 1.0a provider`);
  return auth;
}

/** A 4xx from the access-token endpoint is a refused exchange; anything else is the provider's. */
function mapCompleteError(provider: string, err: unknown): unknown {
  if (err instanceof OAuthStateError) return invalidState(err.reason);
  if (!isProviderError(err)) return err;
  if (err.status !== undefined && err.status >= 400 && err.status < 500) {
    return tokenExchangeFailed(`${provider} refused the OAuth 1.0a verifier (HTTP ${err.status})`);
  }
  return providerUnavailable(provider, `exchanging the request token (${err.code})`);
}
