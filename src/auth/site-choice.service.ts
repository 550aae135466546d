import {
  BadGatewayException,
  BadRequestException,
  ConflictException,
  Injectable,
  Logger,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import {
  isProviderError,
  type ProviderContext,
  type ProviderSite,
  type SiteSelection,
} from '@pdeck/integration-sdk';
import { ProviderContextFactory } from '../providers/provider-context.factory.js';
import { ProviderRegistry } from '../providers/provider-registry.js';
import { ConfirmService } from './confirm.service.js';
import { ConnectionStore } from './connection-store.service.js';
import { awaitsSiteChoice, type Connection } from './entities/connection.entity.js';
import { TokenService } from './token.service.js';

export interface SiteView extends ProviderSite {
  chosen: boolean;
}

/**
 * Sites of providers whose one grant reaches several (Jira Cloud): listing them for a
 * connection, and the choice that completes a `site_required` connection. The choice is made
 * once; switching sites is a new connection (disconnect, connect again), so items of two sites
 * never mix in one connection.
 */
@Injectable()
export class SiteChoiceService {
  private readonly logger = new Logger(SiteChoiceService.name);

  constructor(
    private readonly store: ConnectionStore,
    private readonly tokens: TokenService,
    private readonly registry: ProviderRegistry,
    private readonly contexts: ProviderContextFactory,
    private readonly confirm: ConfirmService,
  ) {}

  async list(id: string): Promise<SiteView[]> {
    const connection = await this.store.get(id);
    const sites = this.selectionOf(connection);
    this.assertUsable(connection);
    const listed = await this.ask(connection, (ctx) => sites.list(ctx));
    return listed.map((s) => ({ ...s, chosen: s.id === connection.siteId }));
  }

  async choose(id: string, siteId: string): Promise<Connection> {
    let connection = await this.store.get(id);
    const sites = this.selectionOf(connection);
    if (connection.status === 'active' && connection.siteId === siteId) return connection;
    if (!awaitsSiteChoice(connection)) {
      throw new ConflictException({
        statusCode: 409,
        error: connection.siteId ? 'site_already_chosen' : 'not_waiting_for_site',
        message: connection.siteId
          ? 'This connection already syncs another site. To sync a different site, disconnect it and connect again.'
          : `This connection is ${connection.status} and does not wait for a site choice.`,
      });
    }
    const identity = await this.ask(connection, (ctx) => sites.choose(ctx, siteId));
    // Read after the call: a refresh during it moved the token version the swap compares.
    connection = await this.store.get(id);
    if (identity.accountId !== connection.accountId) {
      throw new ConflictException({
        statusCode: 409,
        error: 'account_changed',
        message: 'The site answered for another account than the one connected.',
      });
    }
    const credentials = this.store.credentialsOf(connection);
    if (!(await this.store.chooseSite(connection, credentials, identity))) {
      throw new ConflictException({
        statusCode: 409,
        error: 'concurrent_change',
        message: 'The connection changed while the site was being chosen; read it and retry.',
      });
    }
    this.logger.log({ connectionId: id, provider: connection.provider, msg: 'Site chosen' });
    await this.confirm.announce(connection, false);
    return this.store.get(id);
  }

  private selectionOf(connection: Connection): SiteSelection {
    const sites = this.registry.get(connection.provider).sites;
    if (!sites) {
      throw new NotFoundException({
        statusCode: 404,
        error: 'no_sites',
        message: `${connection.provider} connections have no sites to choose from.`,
      });
    }
    return sites;
  }

  private assertUsable(connection: Connection): void {
    if (connection.status === 'active' || awaitsSiteChoice(connection)) return;
    throw new ConflictException({
      statusCode: 409,
      error: 'not_usable',
      message: `This connection is ${connection.status}; connect again to list its sites.`,
    });
  }

  /** Runs a provider call with the connection's credentials; failures as HTTP answers. */
  private async ask<T>(
    connection: Connection,
    call: (ctx: ProviderContext) => Promise<T>,
  ): Promise<T> {
    const ctx = this.contexts.create({
      provider: connection.provider,
      connectionId: connection.id,
      accountId: connection.accountId,
      settings: connection.settings,
      credentials: () => this.tokens.getCredentials(connection.id),
    });
    try {
      return await call(ctx);
    } catch (error) {
      if (!isProviderError(error)) throw error;
      if (error.code === 'NOT_FOUND') {
        throw new BadRequestException({
          statusCode: 400,
          error: 'unknown_site',
          message: 'cloudId is not one of the sites this connection can reach (GET .../sites).',
        });
      }
      if (error.code === 'AUTH_REVOKED') {
        throw new ConflictException({
          statusCode: 409,
          error: 'needs_reauth',
          message: 'The grant is no longer valid; connect again.',
        });
      }
      if (error.code === 'TEMPORARY' || error.code === 'RATE_LIMITED') {
        throw new ServiceUnavailableException({
          statusCode: 503,
          error: 'provider_unavailable',
          message: `${connection.provider} did not answer; retry later.`,
        });
      }
      throw new BadGatewayException({
        statusCode: 502,
        error: 'provider_error',
        message: `${connection.provider} refused the request (${error.code}).`,
      });
    }
  }
}
