import { Injectable, Logger } from '@nestjs/common';
import type { Request } from 'express';
import OAuth2Strategy from 'passport-oauth2';
import {
  isProviderError,
  type AccountIdentity,
  type ConnectionCredentials,
} from '@pdeck/integration-sdk';
import { ProviderRegistry } from '../../providers/provider-registry.js';
import {
  connectError,
  invalidState,
  providerUnavailable,
  tokenExchangeFailed,
} from './oauth-errors.js';
import type { OAuth2StateBinding, OAuth2StateRejection } from './oauth2-state.store.js';
import { OAuth2StrategyFactory } from './oauth2-strategy.factory.js';
import type { OAuth2Grant } from './provider-oauth2.strategy.js';
import { runStrategy, type StrategyOutcome } from './run-strategy.js';
import { type ConsumedStateSink, recordConsumed } from './consumed-state.js';
import { TokenExchangeError } from './token-exchange.js';

export interface FlowStart {
  provider: string;
  userId: string;
  returnTo?: string;
}

/** A callback that ended at the provider: the user consented, or the provider said why not. */
export type FlowResult =
  | {
      kind: 'granted';
      userId: string;
      returnTo?: string;
      identity: AccountIdentity;
      credentials: ConnectionCredentials;
      scopes: string[];
    }
  | { kind: 'denied'; userId: string; returnTo?: string; error: string };

/** A provider's `error` value we pass on to returnTo; anything else becomes a generic one. */
const PROVIDER_ERROR = /^[a-z0-9_]{1,64}$/i;

/**
 * The OAuth 2.0 authorization-code flow on top of the per-provider passport strategies. Turns
 * passport's outcomes into results or HTTP errors with a clear message. Refusals are logged with
 * the provider and the reason only: codes, states and verifiers never reach a log line.
 */
@Injectable()
export class OAuth2FlowService {
  private readonly logger = new Logger(OAuth2FlowService.name);

  constructor(
    private readonly strategies: OAuth2StrategyFactory,
    private readonly registry: ProviderRegistry,
  ) {}

  async start(input: FlowStart): Promise<{ authorizeUrl: string }> {
    const strategy = this.strategies.strategy(input.provider);
    const binding: OAuth2StateBinding = { userId: input.userId, returnTo: input.returnTo };
    // An object `state` makes passport-oauth2 generate and persist the state through our store.
    const outcome = await runStrategy(strategy, syntheticRequest({}), { state: binding });
    if (outcome.kind === 'redirect') return { authorizeUrl: outcome.url };
    throw unexpected(input.provider, outcome);
  }

  async complete(
    provider: string,
    query: Record<string, unknown>,
    sink?: ConsumedStateSink,
  ): Promise<FlowResult> {
    const strategy = this.strategies.strategy(provider);
    if (!isFilled(query.state)) throw this.refuse(provider, invalidState('missing'), 'missing');
    if (query.error !== undefined) return this.denied(provider, query, sink);
    if (!isFilled(query.code)) {
      const message = 'The callback carries neither an authorization code nor an error.';
      throw this.refuse(provider, connectError('invalid_request', message), 'missing_code');
    }
    const request = syntheticRequest({ code: query.code, state: query.state }, sink);
    const outcome = await runStrategy(strategy, request);
    return this.toResult(provider, outcome);
  }

  /** `?error=access_denied&state=...`: the state is spent, the user goes back with the error. */
  /** The returnTo sealed into a state, for a callback that cannot reach Redis. */
  sealedReturnTo(provider: string, query: Record<string, unknown>): string | undefined {
    return this.strategies.stateStore(provider).sealedReturnTo(query.state);
  }

  private async denied(
    provider: string,
    query: Record<string, unknown>,
    sink?: ConsumedStateSink,
  ): Promise<FlowResult> {
    const record = await this.strategies.stateStore(provider).consume(query.state);
    if ('reason' in record) throw this.refuse(provider, invalidState(record.reason), record.reason);
    recordConsumed(sink, record);
    const error =
      typeof query.error === 'string' && PROVIDER_ERROR.test(query.error)
        ? query.error
        : 'provider_error';
    this.logger.log({ provider, error, msg: 'Authorization ended at the provider' });
    return { kind: 'denied', userId: record.userId, returnTo: record.returnTo, error };
  }

  private toResult(provider: string, outcome: StrategyOutcome): FlowResult {
    switch (outcome.kind) {
      case 'success':
        return this.granted(provider, outcome.user as OAuth2Grant, outcome.info);
      case 'fail': {
        const reason = (outcome.challenge as OAuth2StateRejection | undefined)?.reason;
        throw this.refuse(provider, invalidState(reason ?? 'unknown_or_expired'), reason);
      }
      case 'error':
        throw this.mapError(provider, outcome.error);
      default:
        throw unexpected(provider, outcome);
    }
  }

  private granted(provider: string, grant: OAuth2Grant, info: unknown): FlowResult {
    const binding = (info as { state: OAuth2StateBinding }).state;
    const { accessToken, refreshToken, expiresAt, scope, linked } = grant.tokens;
    const granted = scope?.split(/[\s,]+/).filter(Boolean);
    const auth = this.registry.getEnabled(provider).catalog.auth;
    const requested = auth.scheme === 'oauth2' ? auth.scopes : [];
    return {
      kind: 'granted',
      userId: binding.userId,
      returnTo: binding.returnTo,
      identity: grant.identity,
      credentials: { accessToken, refreshToken, expiresAt, scope, ...(linked ? { linked } : {}) },
      scopes: granted?.length ? granted : requested,
    };
  }

  /**
   * passport-oauth2 wraps what the token leg throws in an InternalOAuthError; what the profile
   * leg throws arrives as is. That tells the two stages apart.
   */
  private mapError(provider: string, error: unknown): Error {
    const wrapped = error instanceof OAuth2Strategy.InternalOAuthError;
    const cause: unknown = wrapped ? error.oauthError : error;
    if (cause instanceof TokenExchangeError) {
      return this.refuse(provider, tokenExchangeFailed(cause.message), cause.oauthError);
    }
    if (isProviderError(cause)) {
      const stage = wrapped ? 'exchanging the authorization code' : 'reading the account';
      this.logger.warn({ provider, errorCode: cause.code, status: cause.status, msg: stage });
      return providerUnavailable(provider, `${stage} (${cause.code})`);
    }
    return cause instanceof Error ? cause : new Error(`${provider} OAuth2 callback failed`);
  }

  private refuse<E extends Error>(provider: string, error: E, reason?: string): E {
    this.logger.warn({ provider, reason, msg: 'OAuth2 callback refused' });
    return error;
  }
}

/**
 * passport reads only `query` and `body`. A minimal request keeps it away from whatever else the
 * real request carries (a body `code` on another route, sessions) and from mutating it.
 */
function syntheticRequest(query: Record<string, string>, stateSink?: ConsumedStateSink): Request {
  return { query, body: {}, headers: {}, stateSink } as unknown as Request;
}

function isFilled(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function unexpected(provider: string, outcome: StrategyOutcome): Error {
  if (outcome.kind === 'error' && outcome.error instanceof Error) return outcome.error;
  return new Error(`${provider} OAuth2 strategy ended unexpectedly (${outcome.kind})`);
}
