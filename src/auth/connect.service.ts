import { Inject, Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import { ProviderRegistry } from '../providers/provider-registry.js';
import { CONNECTION_EVENTS, type ConnectionEvent } from './connection-events.js';
import { ConnectionStore } from './connection-store.service.js';
import type { AuthorizeDto } from './dto/authorize.dto.js';
import { connectError } from './oauth/oauth-errors.js';
import { OAuth1ConnectService } from './oauth/oauth1-connect.service.js';
import { type FlowResult, OAuth2FlowService } from './oauth/oauth2-flow.service.js';
import { checkReturnTo, returnToWith } from './oauth/return-to.js';

/** What the callback route sends: a redirect to returnTo, or JSON when there is none. */
export type CallbackResponse =
  | { redirect: string }
  | { status: 200; body: { connectionId: string; provider: string; status: string } };

/**
 * The connect use case for both OAuth schemes: starts a flow for a PDeck user and turns a
 * finished one into a connection row plus a domain event. Only ids leave this class.
 */
@Injectable()
export class ConnectService {
  private readonly logger = new Logger(ConnectService.name);

  constructor(
    private readonly registry: ProviderRegistry,
    private readonly oauth2: OAuth2FlowService,
    private readonly oauth1: OAuth1ConnectService,
    private readonly connections: ConnectionStore,
    private readonly events: EventEmitter2,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
  ) {}

  async authorize(providerId: string, dto: AuthorizeDto): Promise<{ authorizeUrl: string }> {
    const provider = this.registry.getEnabled(providerId);
    const returnTo =
      dto.returnTo === undefined
        ? undefined
        : checkReturnTo(dto.returnTo, this.config.returnToOrigins);
    const start = { provider: providerId, userId: dto.userId, returnTo };
    const result =
      provider.catalog.auth.scheme === 'oauth1'
        ? await this.oauth1.start(provider, start)
        : await this.oauth2.start(start);
    this.logger.log({ provider: providerId, userId: dto.userId, msg: 'Connect flow started' });
    return result;
  }

  async callback(providerId: string, query: Record<string, unknown>): Promise<CallbackResponse> {
    const provider = this.registry.getEnabled(providerId);
    const result =
      provider.catalog.auth.scheme === 'oauth1'
        ? await this.oauth1.complete(provider, query)
        : await this.oauth2.complete(providerId, query);
    if (result.kind === 'denied') return this.denied(result);
    return this.connect(providerId, result);
  }

  private async connect(
    provider: string,
    grant: Extract<FlowResult, { kind: 'granted' }>,
  ): Promise<CallbackResponse> {
    const { connection, created } = await this.connections.upsertFromGrant({
      userId: grant.userId,
      provider,
      identity: grant.identity,
      credentials: grant.credentials,
      scopes: grant.scopes,
    });
    const event: ConnectionEvent = {
      connectionId: connection.id,
      userId: connection.userId,
      provider,
    };
    // Awaited: listeners (schedules, webhook subscriptions) finish before the user is sent on,
    // and a failing one surfaces here instead of leaving a connection nothing syncs.
    await this.events.emitAsync(
      created ? CONNECTION_EVENTS.created : CONNECTION_EVENTS.reconnected,
      event,
    );
    this.logger.log({ ...event, created, msg: 'Connection granted' });
    if (grant.returnTo) {
      return {
        redirect: returnToWith(this.safeReturnTo(grant.returnTo), { connectionId: connection.id }),
      };
    }
    const body = { connectionId: connection.id, provider, status: connection.status };
    return { status: 200, body };
  }

  private denied(result: Extract<FlowResult, { kind: 'denied' }>): CallbackResponse {
    if (result.returnTo) {
      return {
        redirect: returnToWith(this.safeReturnTo(result.returnTo), { error: result.error }),
      };
    }
    const message =
      result.error === 'access_denied'
        ? 'The user did not grant access at the provider.'
        : `The provider ended the authorization with "${result.error}".`;
    throw connectError(
      result.error === 'access_denied' ? 'access_denied' : 'provider_error',
      message,
    );
  }

  /**
   * Checked again at the callback: RETURN_TO_ORIGINS may have shrunk during the ten minutes a
   * flow can take, and a redirect is only ever issued to an origin allowed right now.
   */
  private safeReturnTo(returnTo: string): string {
    return checkReturnTo(returnTo, this.config.returnToOrigins);
  }
}
