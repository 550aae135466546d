import {
  ConflictException,
  ForbiddenException,
  GoneException,
  Injectable,
  Logger,
} from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { withTimeout } from '../core/runtime/with-timeout.js';
import { isProviderError } from '@pdeck/integration-sdk';
import { ProviderContextFactory } from '../providers/provider-context.factory.js';
import { ProviderRegistry } from '../providers/provider-registry.js';
import { confirmTokenMatches } from './confirm-token.js';
import { CONNECTION_EVENTS, type ConnectionEvent } from './connection-events.js';
import { ConnectionStore, toPendingGrant, type PendingGrant } from './connection-store.service.js';
import { DisconnectService } from './disconnect.service.js';
import type { Connection } from './entities/connection.entity.js';

class FollowUpLate extends Error {}

/** How long confirming waits for the follow-up (schedule, subscriptions) before answering. */
export const CONFIRM_FOLLOW_UP_MS = 5_000;

/**
 * The second half of connecting: PDeck's backend, which knows who is signed in where the browser
 * landed, confirms the grant for that user. Only the user who started the flow can activate it;
 * anything else ends the grant, so an authorize link completed in someone else's browser never
 * streams that person's account into the starter's items.
 */
@Injectable()
export class ConfirmService {
  private readonly logger = new Logger(ConfirmService.name);

  constructor(
    private readonly store: ConnectionStore,
    private readonly disconnects: DisconnectService,
    private readonly registry: ProviderRegistry,
    private readonly events: EventEmitter2,
    private readonly contexts: ProviderContextFactory,
  ) {}

  async confirm(id: string, input: { userId: string; token: string }): Promise<Connection> {
    const connection = await this.store.get(id);
    if (!connection.pendingGrant || !connection.confirmTokenHash) {
      throw new ConflictException({
        statusCode: 409,
        error: 'not_pending',
        message: 'This connection has no grant waiting for confirmation (already confirmed?).',
      });
    }
    const log = { connectionId: id, provider: connection.provider };
    const matches =
      confirmTokenMatches(input.token, connection.confirmTokenHash) &&
      input.userId === connection.userId;
    if (!matches) {
      this.logger.warn({ ...log, msg: 'confirmation refused: wrong user or token' });
      await this.end(connection, 'confirmation_refused');
      throw new ForbiddenException({
        statusCode: 403,
        error: 'confirmation_refused',
        message:
          'The grant was not confirmed for the user who started the flow; it was revoked and ' +
          'nothing of that account is kept. Start the connection again.',
      });
    }
    if (connection.confirmExpiresAt && connection.confirmExpiresAt.getTime() <= Date.now()) {
      await this.end(connection, 'confirmation_expired');
      throw new GoneException({
        statusCode: 410,
        error: 'confirmation_expired',
        message: 'The confirmation window (10 minutes) has passed. Start the connection again.',
      });
    }
    const grant = await this.keepChosenSite(connection, this.store.pendingGrantOf(connection)!);
    if (!(await this.store.activatePendingGrant(connection, grant))) {
      throw new ConflictException({
        statusCode: 409,
        error: 'not_pending',
        message: 'The grant was confirmed or replaced meanwhile.',
      });
    }
    const reconnect = connection.status !== 'pending';
    if (grant.siteRequired) {
      // Nothing to schedule or subscribe before a site is chosen (PUT .../site announces it).
      this.logger.log({
        ...log,
        reconnect,
        msg: 'Connection confirmed; waiting for a site choice',
      });
      return this.store.get(id);
    }
    this.logger.log({ ...log, reconnect, msg: 'Connection confirmed' });
    await this.announce(connection, reconnect);
    return this.store.get(id);
  }

  /**
   * A reconnect of a connection that had chosen a site keeps that site when the new grant still
   * reaches it; otherwise (or when asking fails) the user chooses again.
   */
  private async keepChosenSite(connection: Connection, grant: PendingGrant): Promise<PendingGrant> {
    const sites = this.registry.get(connection.provider).sites;
    if (!grant.siteRequired || !connection.siteId || !sites) return grant;
    const ctx = this.contexts.create({
      provider: connection.provider,
      connectionId: connection.id,
      accountId: connection.accountId,
      credentials: async () => grant.credentials,
    });
    try {
      const identity = await sites.choose(ctx, connection.siteId);
      if (identity.accountId !== connection.accountId) return grant;
      return toPendingGrant(grant.credentials, grant.scopes, identity);
    } catch (error) {
      this.logger.warn({
        connectionId: connection.id,
        msg: 'the previously chosen site could not be kept; a new choice is needed',
        code: isProviderError(error) ? error.code : 'UNKNOWN',
      });
      return grant;
    }
  }

  /**
   * Revokes a grant nobody may use and forgets it. Called for refusals, late confirmations and
   * by the sweeper for grants nobody confirmed.
   */
  async end(connection: Connection, reason: string): Promise<void> {
    const log = { connectionId: connection.id, provider: connection.provider, reason };
    let grant = null;
    try {
      grant = this.store.pendingGrantOf(connection);
    } catch (error) {
      this.logger.error({
        ...log,
        msg: 'pending grant unreadable; discarded unrevoked',
        error: (error as Error).message,
      });
    }
    if (grant && (await this.mayRevoke(connection))) {
      try {
        await this.disconnects.revokeGrant(connection, grant.credentials, true);
      } catch (error) {
        this.logger.warn({
          ...log,
          msg: 'revoking the pending grant failed',
          error: (error as Error).message,
        });
      }
    }
    await this.store.discardPendingGrant(connection);
    this.logger.log({ ...log, msg: 'Pending grant ended' });
  }

  /**
   * OAuth 1.0a tokens are revoked one by one. An OAuth 2.0 provider may end every token of the
   * account's grant to our client when one is revoked (Google documents that revoking a token
   * can remove the app's access; whether a sibling grant survives is not documented), so while
   * another connection uses the same account, revoking could cut it off: we only forget the
   * tokens then. That is the safe side: we keep nothing of the account either way.
   */
  private async mayRevoke(connection: Connection): Promise<boolean> {
    const auth = this.registry.get(connection.provider).catalog.auth;
    if (auth.scheme === 'oauth1') return true;
    return !(await this.store.accountInUse(connection));
  }

  /**
   * Schedules, subscriptions and the first sync follow the activation. Bounded in time: when
   * Redis is slow or away the confirmation still answers, and the periodic scheduler reconcile
   * and the subscription renewal round pick the connection up.
   */
  async announce(connection: Connection, reconnect: boolean): Promise<void> {
    const event: ConnectionEvent = {
      connectionId: connection.id,
      userId: connection.userId,
      provider: connection.provider,
    };
    const name = reconnect ? CONNECTION_EVENTS.reconnected : CONNECTION_EVENTS.created;
    try {
      await withTimeout(
        this.events.emitAsync(name, event),
        CONFIRM_FOLLOW_UP_MS,
        () => new FollowUpLate(),
      );
    } catch (error) {
      if (error instanceof FollowUpLate) {
        this.logger.warn({
          ...event,
          msg: 'follow-up still running; the reconcile rounds finish it',
        });
      } else {
        this.logger.error({
          ...event,
          msg: 'follow-up failed; the reconcile rounds retry it',
          error: (error as Error).message,
        });
      }
    }
  }
}
