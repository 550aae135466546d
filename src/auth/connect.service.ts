import {
  HttpException,
  Inject,
  Injectable,
  Logger,
  ServiceUnavailableException,
} from '@nestjs/common';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import { ProviderRegistry } from '../providers/provider-registry.js';
import { CONFIRM_TTL_MS, newConfirmToken } from './confirm-token.js';
import { ConnectionStore } from './connection-store.service.js';
import type { AuthorizeDto } from './dto/authorize.dto.js';
import { type ConsumedStateSink } from './oauth/consumed-state.js';
import { connectError } from './oauth/oauth-errors.js';
import { OAuth1ConnectService } from './oauth/oauth1-connect.service.js';
import { type FlowResult, OAuth2FlowService } from './oauth/oauth2-flow.service.js';
import { checkReturnTo, returnToWith } from './oauth/return-to.js';
import { withTimeout } from '../core/runtime/with-timeout.js';

/** What the callback route sends: a redirect to returnTo, or JSON when there is none. */
export type CallbackResponse =
  | { redirect: string }
  | {
      status: 200;
      body: { connectionId: string; confirm: string; provider: string; status: 'pending' };
    };

/**
 * Where flows started by the Connect UI (src/connect-ui) land: the service's own page, which
 * hands the result to PDeck. Allowed as a returnTo only for those flows, never for API callers,
 * so RETURN_TO_ORIGINS stays the only list an outside caller can send users to.
 */
export const CONNECT_UI_LANDING_PATH = '/connect/done';

/** The whole callback, exchange and identity included, answers within this budget. */
export const CALLBACK_BUDGET_MS = 10_000;

class CallbackTimeout extends Error {
  override readonly name = 'CallbackTimeout';
}

/**
 * The connect use case for both OAuth schemes: starts a flow for a PDeck user and turns a
 * finished one into a grant waiting for PDeck's confirmation. Only ids and the one-time
 * confirmation token leave this class.
 */
@Injectable()
export class ConnectService {
  private readonly logger = new Logger(ConnectService.name);

  constructor(
    private readonly registry: ProviderRegistry,
    private readonly oauth2: OAuth2FlowService,
    private readonly oauth1: OAuth1ConnectService,
    private readonly connections: ConnectionStore,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
  ) {}

  /**
   * `landOnConnectUi`: the flow returns to the Connect UI's landing page instead of a returnTo
   * (internal callers only; the API route never sets it).
   */
  async authorize(
    providerId: string,
    dto: AuthorizeDto,
    options: { landOnConnectUi?: boolean } = {},
  ): Promise<{ authorizeUrl: string }> {
    const provider = this.registry.getEnabled(providerId);
    const returnTo = options.landOnConnectUi
      ? this.connectUiLanding()
      : dto.returnTo === undefined
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

  /**
   * Finishes a flow within CALLBACK_BUDGET_MS. Refusals of the state itself (unknown, replayed,
   * another provider's) stay errors on our page. Once the state is redeemed, every failure (a
   * refused exchange, a provider 5xx, Postgres or Redis away, the time budget) sends the user
   * back to returnTo with ?error=<code>, and nothing is half stored: the grant only becomes a
   * pending connection at the very end, and nothing syncs before PDeck confirms it.
   */
  async callback(providerId: string, query: Record<string, unknown>): Promise<CallbackResponse> {
    const provider = this.registry.getEnabled(providerId);
    const sink: ConsumedStateSink = {};
    const oauth1 = provider.catalog.auth.scheme === 'oauth1';
    const finish = async (): Promise<CallbackResponse> => {
      const result = oauth1
        ? await this.oauth1.complete(provider, query, sink)
        : await this.oauth2.complete(providerId, query, sink);
      if (result.kind === 'denied') return this.denied(result);
      return this.connect(providerId, result);
    };
    try {
      return await withTimeout(
        finish(),
        CALLBACK_BUDGET_MS,
        () => new CallbackTimeout(`callback took over ${CALLBACK_BUDGET_MS} ms`),
      );
    } catch (error) {
      // Before the state was redeemed, only a failure of ours (not a refusal) may use the
      // returnTo sealed into the callback: the state record could not be read at all.
      const infrastructure = !(error instanceof HttpException);
      const returnTo = sink.consumed
        ? sink.returnTo
        : infrastructure
          ? oauth1
            ? this.oauth1.sealedReturnTo(providerId, query)
            : this.oauth2.sealedReturnTo(providerId, query)
          : undefined;
      const code = errorCodeOf(error);
      this.logger.warn({
        provider: providerId,
        userId: sink.userId,
        error: code,
        reason: error instanceof Error ? error.message : String(error),
        msg: 'Connect callback failed',
      });
      if (!returnTo || (!sink.consumed && !infrastructure)) throw asHttpError(error);
      return { redirect: returnToWith(this.safeReturnTo(returnTo), { error: code }) };
    }
  }

  /**
   * Keeps the grant pending and hands the browser a one-time confirmation token: nothing syncs
   * until PDeck's backend confirms it for the user who started the flow (ConfirmService).
   */
  private async connect(
    provider: string,
    grant: Extract<FlowResult, { kind: 'granted' }>,
  ): Promise<CallbackResponse> {
    const confirm = newConfirmToken();
    const { connection, reconnect } = await this.connections.storePendingGrant(
      {
        userId: grant.userId,
        provider,
        identity: grant.identity,
        credentials: grant.credentials,
        scopes: grant.scopes,
      },
      { tokenHash: confirm.hash, expiresAt: new Date(Date.now() + CONFIRM_TTL_MS) },
    );
    this.logger.log({
      connectionId: connection.id,
      userId: connection.userId,
      provider,
      reconnect,
      msg: 'Grant stored; waiting for confirmation',
    });
    const result = { connectionId: connection.id, confirm: confirm.token };
    if (grant.returnTo) {
      return { redirect: returnToWith(this.safeReturnTo(grant.returnTo), result) };
    }
    return { status: 200, body: { ...result, provider, status: 'pending' } };
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
    if (returnTo === this.connectUiLanding()) return returnTo;
    return checkReturnTo(returnTo, this.config.returnToOrigins);
  }

  private connectUiLanding(): string {
    return `${this.config.publicUrl}${CONNECT_UI_LANDING_PATH}`;
  }
}

/** The `error` code PDeck receives: the connect error's own, or temporarily_unavailable. */
function errorCodeOf(error: unknown): string {
  if (error instanceof HttpException) {
    const body = error.getResponse() as { error?: unknown };
    if (typeof body === 'object' && typeof body.error === 'string') return body.error;
  }
  return 'temporarily_unavailable';
}

/** Refusals keep their status; anything else is ours and temporary: 503, never a stack trace. */
function asHttpError(error: unknown): HttpException {
  if (error instanceof HttpException) return error;
  return new ServiceUnavailableException({
    statusCode: 503,
    error: 'temporarily_unavailable',
    message: 'The connection could not be completed right now. Start it again from PDeck.',
  });
}
