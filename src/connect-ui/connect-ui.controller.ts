import {
  Controller,
  Get,
  Inject,
  Logger,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseFilters,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ConnectService } from '../auth/connect.service.js';
import { DisconnectService } from '../auth/disconnect.service.js';
import { SiteChoiceService, type SiteView } from '../auth/site-choice.service.js';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import { withQueueTimeout } from '../core/queue/queue-timeout.js';
import { Public } from '../core/security/public.decorator.js';
import { csrfMatches } from '../core/security/session-secrets.js';
import { ProviderRegistry } from '../providers/provider-registry.js';
import { SyncTriggerService } from '../sync/sync-trigger.service.js';
import { CONNECT_CSS, CONNECT_JS } from './assets.js';
import { PageError, ConnectPageFilter } from './connect-page.filter.js';
import {
  type ConnectSession,
  ConnectSessionStore,
  SESSION_TTL_SECONDS,
} from './connect-session.store.js';
import { sessionCookie, sessionCookieOf } from './connect-ui.http.js';
import { type ConnectPageState, ConnectViewService } from './connect-view.service.js';
import { describeProblem } from '../providers/errors/problem-words.js';
import { connectPage, disconnectPage, type DoneModel, donePage } from './views.js';

/** Short confirmations after an action, chosen by code so nothing from the URL is echoed. */
const NOTICES: Record<string, string> = {
  'sync-started': 'A sync has started.',
  disconnected: 'The account was disconnected.',
  'site-chosen': 'The site was chosen; the first sync has started.',
};

const CONFIRM_TOKEN = /^[A-Za-z0-9_-]{20,128}$/;
const ERROR_CODE = /^[a-z0-9_]{1,64}$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The Connect UI: server-rendered pages where a PDeck user manages their integrations, opened
 * through a one-time link from POST /v1/connect-sessions. Public routes (no bearer token): the
 * session cookie is the credential, every form carries the session's CSRF token, and every
 * lookup goes through ConnectViewService.ownConnection (the session's user only).
 */
@ApiExcludeController()
@Public()
@UseFilters(ConnectPageFilter)
@Controller('connect')
export class ConnectUiController {
  private readonly logger = new Logger(ConnectUiController.name);
  private readonly secureCookie: boolean;

  constructor(
    private readonly sessions: ConnectSessionStore,
    private readonly views: ConnectViewService,
    private readonly connect: ConnectService,
    private readonly disconnects: DisconnectService,
    private readonly sites: SiteChoiceService,
    private readonly syncs: SyncTriggerService,
    private readonly registry: ProviderRegistry,
    @Inject(APP_CONFIG) config: ResolvedAppConfig,
  ) {
    this.secureCookie = config.publicUrl.startsWith('https:');
  }

  /** Opens the one-time link: sets the session cookie and moves the token out of the address bar. */
  @Get('session')
  async open(@Query('token') token: unknown, @Res() res: Response): Promise<void> {
    const redemption = await this.sessions.redeemLink(typeof token === 'string' ? token : '');
    if (redemption.kind === 'spent') {
      throw new PageError(
        410,
        'Links to this page work once and for 30 minutes, and this one was used or has expired. ' +
          'Go back to PDeck and open your integrations again: PDeck then makes a new link for you.',
        'This link has expired',
      );
    }
    if (redemption.kind === 'unknown') {
      throw new PageError(
        404,
        'This link is not one we made. Go back to PDeck and open your integrations again: ' +
          'PDeck then makes a new link for you.',
        'This link does not work',
      );
    }
    res.setHeader(
      'set-cookie',
      sessionCookie(redemption.cookie, SESSION_TTL_SECONDS, this.secureCookie),
    );
    this.logger.log({ userId: redemption.session.userId, msg: 'Connect UI session opened' });
    res.redirect(303, '/connect');
  }

  @Get()
  async page(
    @Req() req: Request,
    @Query('notice') notice: unknown,
    @Res() res: Response,
  ): Promise<void> {
    const session = await this.session(req);
    const state = await this.views.state(session);
    const html = connectPage({
      state,
      csrf: session.csrf,
      canConnect: session.returnTo !== undefined,
      notice: typeof notice === 'string' ? NOTICES[notice] : undefined,
      sites: await this.sitesOf(state),
      targetOrigin: session.returnTo ? new URL(session.returnTo).origin : undefined,
    });
    res.status(200).type('html').send(html);
  }

  /** What the page shows, for its script: words, times and counts, never a token. */
  @Get('state')
  async state(@Req() req: Request, @Res() res: Response): Promise<void> {
    const session = await this.session(req);
    const state = await this.views.state(session);
    res.status(200).json(state);
  }

  @Get('assets/connect.css')
  css(@Res() res: Response): void {
    this.asset(res, 'text/css; charset=utf-8', CONNECT_CSS);
  }

  @Get('assets/connect.js')
  js(@Res() res: Response): void {
    this.asset(res, 'text/javascript; charset=utf-8', CONNECT_JS);
  }

  /**
   * Connect or Reconnect: the same authorize flow as POST /v1/connections/:provider/authorize,
   * for the session's user, landing on /connect/done (which hands the result to PDeck).
   */
  @Post(':provider/start')
  async start(
    @Param('provider') provider: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const session = await this.formSession(req);
    if (!session.returnTo) {
      throw new PageError(
        409,
        'This page was opened without a way back to PDeck, so a new connection could not be ' +
          'handed over. Connect from PDeck’s settings instead.',
        'Connecting is not available here',
      );
    }
    // Offered on the page, or a provider of a connection to reconnect (also outside `providers`).
    const offered =
      this.views.integrations(session).some((i) => i.id === provider) ||
      (this.registry.isEnabled(provider) && (await this.views.hasConnectionOf(session, provider)));
    if (!offered) {
      throw new PageError(404, 'This integration is not available here.', 'Not found');
    }
    const { authorizeUrl } = await this.connect.authorize(
      provider,
      { userId: session.userId },
      { landOnConnectUi: true },
    );
    res.redirect(303, authorizeUrl);
  }

  @Post('connections/:id/sync')
  async sync(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const session = await this.formSession(req);
    const connection = await this.views.ownConnection(session, id);
    if (connection.status !== 'active') {
      throw new PageError(409, 'This account cannot sync until it is connected again.');
    }
    await withQueueTimeout(this.syncs.trigger(connection.id, 'incremental', 'manual'));
    res.redirect(303, '/connect?notice=sync-started');
  }

  /** The confirmation step: what disconnecting does, and the button that does it. */
  @Get('connections/:id/disconnect')
  async confirmDisconnect(
    @Param('id') id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const session = await this.session(req);
    await this.views.ownConnection(session, id);
    const view = (await this.views.state(session)).connections.find((c) => c.id === id);
    if (!view) throw new PageError(404, 'No such connection for this user.');
    res.status(200).type('html').send(disconnectPage(view, session.csrf));
  }

  @Post('connections/:id/disconnect')
  async disconnect(
    @Param('id') id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const session = await this.formSession(req);
    const connection = await this.views.ownConnection(session, id);
    if (formField(req, 'confirmed') !== 'yes') {
      // Only the confirmation page's button says yes; anything else shows that page.
      res.redirect(303, `/connect/connections/${connection.id}/disconnect`);
      return;
    }
    await this.disconnects.disconnect(connection.id);
    this.logger.log({ connectionId: connection.id, msg: 'Disconnected from the Connect UI' });
    res.redirect(303, '/connect?notice=disconnected');
  }

  @Post('connections/:id/site')
  async chooseSite(
    @Param('id') id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const session = await this.formSession(req);
    const connection = await this.views.ownConnection(session, id);
    const cloudId = formField(req, 'cloudId');
    if (!cloudId || cloudId.length > 200) {
      throw new PageError(400, 'Choose one of the sites, then press “Use this site”.');
    }
    await this.sites.choose(connection.id, cloudId);
    res.redirect(303, '/connect?notice=site-chosen');
  }

  /**
   * Where the provider's callback sends the browser: hands `connectionId` and `confirm` (or
   * `error`) to PDeck through connect.js, which never confirms anything itself.
   */
  @Get('done')
  async done(@Req() req: Request, @Res() res: Response): Promise<void> {
    const session = await this.session(req);
    if (!session.returnTo) {
      throw new PageError(
        409,
        'This page was opened without a way back to PDeck, so the result cannot be handed ' +
          'over. Close this window and connect again from PDeck.',
        'Nothing to hand over',
      );
    }
    const targetOrigin = new URL(session.returnTo).origin;
    const { connectionId, confirm, error } = req.query;
    let model: DoneModel;
    if (typeof error === 'string' && ERROR_CODE.test(error)) {
      model = {
        kind: 'error',
        error,
        message: errorInWords(error),
        targetOrigin,
        continueUrl: withParams(session.returnTo, { error }),
      };
    } else if (
      typeof connectionId === 'string' &&
      UUID.test(connectionId) &&
      typeof confirm === 'string' &&
      CONFIRM_TOKEN.test(confirm)
    ) {
      const connection = await this.views.ownConnection(session, connectionId);
      const view = (await this.views.state(session)).connections.find(
        (c) => c.id === connection.id,
      );
      model = {
        kind: 'result',
        connectionId: connection.id,
        confirm,
        provider: connection.provider,
        providerName: view?.providerName ?? connection.provider,
        targetOrigin,
        continueUrl: withParams(session.returnTo, { connectionId: connection.id, confirm }),
      };
    } else {
      throw new PageError(
        400,
        'There is nothing to hand over to PDeck here. Go back to your integrations.',
        'Nothing to hand over',
      );
    }
    res.status(200).type('html').send(donePage(model));
  }

  private async session(req: Request): Promise<ConnectSession> {
    const session = await this.sessions.session(sessionCookieOf(req));
    if (!session) {
      throw new PageError(
        401,
        'This page needs a link from PDeck, and your session has ended or was never started. ' +
          'Go back to PDeck and open your integrations again.',
        'Your session has ended',
      );
    }
    return session;
  }

  /** The session of a form POST, which must carry the session's CSRF token. */
  private async formSession(req: Request): Promise<ConnectSession> {
    const session = await this.session(req);
    if (!csrfMatches(session, formField(req, 'csrf'))) {
      throw new PageError(
        403,
        'This form is missing its security token or is from another session. Go back to your ' +
          'integrations and try again.',
        'This form has expired',
      );
    }
    return session;
  }

  private async sitesOf(
    state: ConnectPageState,
  ): Promise<Map<string, SiteView[] | { error: string }>> {
    const sites = new Map<string, SiteView[] | { error: string }>();
    for (const c of state.connections.filter((v) => v.state === 'choose_site')) {
      try {
        sites.set(c.id, await this.sites.list(c.id));
      } catch (error) {
        this.logger.warn({ connectionId: c.id, reason: String(error), msg: 'Sites unavailable' });
        sites.set(c.id, {
          error: 'The list of sites could not be loaded. Reload the page to try again.',
        });
      }
    }
    return sites;
  }

  private asset(res: Response, type: string, body: string): void {
    res.setHeader('content-type', type);
    res.setHeader('cache-control', 'public, max-age=300');
    res.status(200).send(body);
  }
}

function formField(req: Request, name: string): string | undefined {
  const body = req.body as Record<string, unknown> | undefined;
  const value = body && typeof body === 'object' ? body[name] : undefined;
  return typeof value === 'string' ? value : undefined;
}

function withParams(url: string, params: Record<string, string>): string {
  const target = new URL(url);
  for (const [key, value] of Object.entries(params)) target.searchParams.set(key, value);
  return target.toString();
}

function errorInWords(error: string): string {
  switch (error) {
    case 'access_denied':
      return 'Access was not granted at the provider.';
    case 'temporarily_unavailable':
    case 'provider_unavailable':
      return 'The provider or this service was unavailable. Try again in a moment.';
    case 'token_exchange_failed':
      return 'The provider did not complete the sign-in. Try again.';
    default:
      return describeProblem(error);
  }
}
