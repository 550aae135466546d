import {
  Controller,
  Get,
  Inject,
  Logger,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
  Res,
  UseFilters,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { DisconnectService } from '../auth/disconnect.service.js';
import { ConnectionPauseService } from '../connection-health/connection-pause.service.js';
import { HEALTH_STATES } from '../connection-health/health.js';
import { IssuesService } from '../connection-health/issues.service.js';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import { withQueueTimeout } from '../core/queue/queue-timeout.js';
import { Public } from '../core/security/public.decorator.js';
import { csrfMatches } from '../core/security/session-secrets.js';
import { SyncTriggerService } from '../sync/sync-trigger.service.js';
import { ADMIN_CSS } from './admin-assets.js';
import { AdminAuditService } from './admin-audit.service.js';
import { AdminDataService } from './admin-data.service.js';
import { AdminPageError, AdminPageFilter, SignInRequired } from './admin-page.filter.js';
import {
  ADMIN_SESSION_TTL_SECONDS,
  type AdminSession,
  AdminSessionStore,
} from './admin-session.store.js';
import { adminCookie, adminCookieOf, applyAdminHeaders, formField } from './admin.http.js';
import {
  connectionPage,
  connectionsPage,
  disconnectPage,
  issuesPage,
  overviewPage,
  signInPage,
} from './admin-views.js';
import {
  AdminConnectionsQuery,
  AdminIssuesQuery,
  AdminNoticeQuery,
} from './dto/admin-connections.query.js';

/** Confirmations after an action, chosen by code so nothing from the URL is echoed. */
const NOTICES: Record<string, string> = {
  'sync-started': 'A sync was requested; it appears below once the worker takes it.',
  'resync-started': 'A full resync was requested.',
  paused: 'The schedule is paused: nothing syncs until it is resumed.',
  resumed: 'The schedule is resumed.',
  disconnected: 'The connection was disconnected.',
  muted: 'The issue is muted.',
  unmuted: 'The issue is unmuted.',
};

/**
 * The operator console (docs/operations.md, "Operator console"): server-rendered pages under
 * /admin for the people who run the service. Public routes for the bearer guard: the session
 * cookie, opened with an internal API token, is the credential; every form carries the
 * session's CSRF token; every action is written to the audit log with the token's id.
 */
@ApiExcludeController()
@Public()
@UseFilters(AdminPageFilter)
@Controller('admin')
export class AdminController {
  private readonly logger = new Logger(AdminController.name);
  private readonly secureCookie: boolean;

  constructor(
    private readonly sessions: AdminSessionStore,
    private readonly data: AdminDataService,
    private readonly audit: AdminAuditService,
    private readonly syncs: SyncTriggerService,
    private readonly disconnects: DisconnectService,
    @Inject(APP_CONFIG) config: ResolvedAppConfig,
    private readonly issueStore: IssuesService,
    private readonly pauses: ConnectionPauseService,
  ) {
    this.secureCookie = config.publicUrl.startsWith('https:');
  }

  @Get('assets/admin.css')
  css(@Res() res: Response): void {
    res.setHeader('content-type', 'text/css; charset=utf-8');
    res.setHeader('cache-control', 'public, max-age=300');
    res.status(200).send(ADMIN_CSS);
  }

  @Get('sign-in')
  async signInForm(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (await this.sessions.session(adminCookieOf(req))) {
      applyAdminHeaders(res);
      res.redirect(303, '/admin');
      return;
    }
    this.html(res, 200, signInPage());
  }

  @Post('sign-in')
  async signIn(@Req() req: Request, @Res() res: Response): Promise<void> {
    const result = await this.sessions.signIn(formField(req, 'token'), req.ip ?? 'unknown');
    if (result.kind === 'throttled') {
      res.setHeader('retry-after', String(result.retryAfterSeconds));
      this.logger.warn({ ip: req.ip, msg: 'Operator sign-in throttled' });
      this.html(
        res,
        429,
        signInPage(
          `Too many failed sign-ins from this address. Try again in ${Math.ceil(result.retryAfterSeconds / 60)} minutes.`,
        ),
      );
      return;
    }
    if (result.kind === 'refused') {
      this.logger.warn({ ip: req.ip, msg: 'Operator sign-in refused' });
      this.html(res, 401, signInPage('That is not one of the service’s internal API tokens.'));
      return;
    }
    await this.audit.record(result.session.tokenId, 'sign_in', null);
    this.logger.log({ tokenId: result.session.tokenId, msg: 'Operator signed in' });
    res.setHeader(
      'set-cookie',
      adminCookie(result.cookie, ADMIN_SESSION_TTL_SECONDS, this.secureCookie),
    );
    applyAdminHeaders(res);
    res.redirect(303, '/admin');
  }

  @Post('sign-out')
  async signOut(@Req() req: Request, @Res() res: Response): Promise<void> {
    const session = await this.formSession(req);
    await this.sessions.signOut(adminCookieOf(req));
    await this.audit.record(session.tokenId, 'sign_out', null);
    res.setHeader('set-cookie', adminCookie('', 0, this.secureCookie));
    applyAdminHeaders(res);
    res.redirect(303, '/admin/sign-in');
  }

  @Get()
  async overview(@Req() req: Request, @Res() res: Response): Promise<void> {
    const session = await this.session(req);
    this.html(res, 200, overviewPage(await this.data.overview(), session.csrf));
  }

  @Get('connections')
  async connections(
    @Req() req: Request,
    @Query() query: AdminConnectionsQuery,
    @Res() res: Response,
  ): Promise<void> {
    const session = await this.session(req);
    const providers = this.data.providerIds();
    const provider = query.provider || undefined;
    if (provider && !providers.includes(provider)) {
      throw new AdminPageError(400, `There is no integration “${provider}”.`);
    }
    const health = query.health || undefined;
    if (health && !(HEALTH_STATES as readonly string[]).includes(health)) {
      throw new AdminPageError(400, `“${health}” is not one of: ${HEALTH_STATES.join(', ')}.`);
    }
    const filter = {
      provider,
      health,
      user: query.user?.trim() || undefined,
      openIssue: query.openIssue ? query.openIssue === 'yes' : undefined,
      page: query.page ?? 1,
    };
    const { rows, more } = await this.data.connections(filter);
    this.html(
      res,
      200,
      connectionsPage({
        rows,
        more,
        filter,
        providers: providers.map((id) => ({ id, name: this.data.providerName(id) })),
        csrf: session.csrf,
      }),
    );
  }

  @Get('connections/:id')
  async connection(
    @Req() req: Request,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Query() query: AdminNoticeQuery,
    @Res() res: Response,
  ): Promise<void> {
    const session = await this.session(req);
    const c = await this.found(id);
    const audit = await this.audit.forConnection(id);
    this.html(
      res,
      200,
      connectionPage({
        c,
        audit,
        csrf: session.csrf,
        notice: query.notice ? NOTICES[query.notice] : undefined,
      }),
    );
  }

  @Post('connections/:id/sync')
  syncNow(
    @Req() req: Request,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Res() res: Response,
  ): Promise<void> {
    return this.sync(req, id, 'incremental', res);
  }

  @Post('connections/:id/full-resync')
  fullResync(
    @Req() req: Request,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Res() res: Response,
  ): Promise<void> {
    return this.sync(req, id, 'full', res);
  }

  @Post('connections/:id/pause')
  async pause(
    @Req() req: Request,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Res() res: Response,
  ): Promise<void> {
    const session = await this.formSession(req);
    await this.found(id);
    const reason = `Paused from the operator console (${session.tokenId})`;
    await this.pauses.pause(id, reason, `admin:${session.tokenId}`);
    await this.audit.record(session.tokenId, 'pause', id, { reason });
    this.done(res, id, 'paused');
  }

  @Post('connections/:id/resume')
  async resume(
    @Req() req: Request,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Res() res: Response,
  ): Promise<void> {
    const session = await this.formSession(req);
    await this.found(id);
    await this.pauses.resume(id, `admin:${session.tokenId}`);
    await this.audit.record(session.tokenId, 'resume', id);
    this.done(res, id, 'resumed');
  }

  /** The confirmation step of a disconnect: what it does, and the button that does it. */
  @Get('connections/:id/disconnect')
  async confirmDisconnect(
    @Req() req: Request,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Res() res: Response,
  ): Promise<void> {
    const session = await this.session(req);
    const c = await this.found(id);
    if (c.status === 'disconnected') {
      throw new AdminPageError(409, 'This connection is already disconnected.');
    }
    this.html(res, 200, disconnectPage(c, session.csrf));
  }

  @Post('connections/:id/disconnect')
  async disconnect(
    @Req() req: Request,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Res() res: Response,
  ): Promise<void> {
    const session = await this.formSession(req);
    await this.found(id);
    if (formField(req, 'confirmed') !== 'yes') {
      // Only the confirmation page's button says yes; anything else shows that page.
      applyAdminHeaders(res);
      res.redirect(303, `/admin/connections/${id}/disconnect`);
      return;
    }
    const after = await this.disconnects.disconnect(id);
    await this.audit.record(session.tokenId, 'disconnect', id, {
      revocation: after.lastError ? 'failed' : 'done',
    });
    this.logger.log({
      connectionId: id,
      tokenId: session.tokenId,
      msg: 'Disconnected by operator',
    });
    this.done(res, id, 'disconnected');
  }

  @Get('issues')
  async issues(
    @Req() req: Request,
    @Query() query: AdminIssuesQuery,
    @Res() res: Response,
  ): Promise<void> {
    const session = await this.session(req);
    const status = query.status ?? 'open';
    const listed = await this.issueStore.list({
      status,
      limit: 100,
      cursor: query.cursor || undefined,
    });
    this.html(
      res,
      200,
      issuesPage({
        issues: listed.issues,
        nextCursor: listed.nextCursor,
        status,
        csrf: session.csrf,
      }),
    );
  }

  @Post('issues/:id/mute')
  muteIssue(
    @Req() req: Request,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Res() res: Response,
  ): Promise<void> {
    return this.setMuted(req, id, true, res);
  }

  @Post('issues/:id/unmute')
  unmuteIssue(
    @Req() req: Request,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Res() res: Response,
  ): Promise<void> {
    return this.setMuted(req, id, false, res);
  }

  private async setMuted(req: Request, id: string, muted: boolean, res: Response): Promise<void> {
    const session = await this.formSession(req);
    const issue = await (muted ? this.issueStore.mute(id) : this.issueStore.unmute(id));
    await this.audit.record(
      session.tokenId,
      muted ? 'issue_mute' : 'issue_unmute',
      issue.connectionId,
      { issueId: id },
    );
    applyAdminHeaders(res);
    res.redirect(303, `/admin/issues?notice=${muted ? 'muted' : 'unmuted'}`);
  }

  private async sync(
    req: Request,
    id: string,
    mode: 'incremental' | 'full',
    res: Response,
  ): Promise<void> {
    const session = await this.formSession(req);
    const c = await this.found(id);
    if (c.status !== 'active') {
      throw new AdminPageError(409, `A ${c.status} connection cannot sync.`);
    }
    const { syncRunId, coalesced } = await withQueueTimeout(this.syncs.trigger(id, mode, 'manual'));
    await this.audit.record(session.tokenId, mode === 'full' ? 'full_resync' : 'sync_now', id, {
      syncRunId,
      coalesced,
    });
    this.done(res, id, mode === 'full' ? 'resync-started' : 'sync-started');
  }

  private async found(id: string) {
    const c = await this.data.connection(id);
    if (!c) throw new AdminPageError(404, 'There is no connection with this id.');
    return c;
  }

  private done(res: Response, id: string, notice: string): void {
    applyAdminHeaders(res);
    res.redirect(303, `/admin/connections/${id}?notice=${notice}`);
  }

  private html(res: Response, status: number, body: string): void {
    applyAdminHeaders(res);
    res.status(status).type('html').send(body);
  }

  private async session(req: Request): Promise<AdminSession> {
    const session = await this.sessions.session(adminCookieOf(req));
    if (!session) throw new SignInRequired();
    return session;
  }

  /** The session of a form POST: 401 without one, 403 without its CSRF token. */
  private async formSession(req: Request): Promise<AdminSession> {
    const session = await this.session(req);
    if (!csrfMatches(session, formField(req, 'csrf'))) {
      throw new AdminPageError(
        403,
        'This form is missing its security token or is from another session. Go back and try again.',
      );
    }
    return session;
  }
}
