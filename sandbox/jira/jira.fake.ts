import {
  type PushAttempt,
  type PushSenderOptions,
  empty,
  json,
  type Reply,
  type RequestContext,
  SandboxServer,
} from '@pdeck/integration-sdk/sandbox';
import {
  JiraData,
  parseJqlDate,
  type IssueInput,
  type IssuePatch,
  type IssueRec,
  type SiteRec,
} from './jira-data.js';
import { JiraOAuth, type AccessRec, type JiraApp, type TokenBody } from './jira-oauth.js';
import { checkSearchable, JqlError, matches, parseJql, type EvalContext } from './jql.js';
import { providerOrigins } from './provider-origins.js';
import { SEED_SITES, seedJira } from './seed.js';
import { WebhookRegistry } from './webhooks.js';

/** The sandbox OAuth 2.0 (3LO) app: its client secret also signs webhook JWTs. */
export const SANDBOX_JIRA_APP: JiraApp = {
  clientId: 'pdeckSandboxJiraClientId0123456789',
  clientSecret: 'ATOApdeck-sandbox-jira-client-secret-0123456789abcdef',
  name: 'PDeck Integrations (sandbox)',
};

export interface JiraFakeOptions {
  port?: number;
  host?: string;
  apps?: JiraApp[];
  /** Seed alice, bob, their sites, projects and issues (default true). */
  seed?: boolean;
  /** Seeded issues were updated in the days before this instant (default: now). */
  seedAnchor?: Date;
  /** Access token lifetime, default 3600 s. */
  accessTokenTtlSec?: number;
  /** Reuse leeway of a rotated refresh token, default 600 s. */
  refreshReuseLeewaySec?: number;
  webhooks?: PushSenderOptions;
  /**
   * Which zone a JQL date literal without zone is read in: the calling user's profile zone
   * (default; what `/myself` reports) or the site's zone.
   */
  jqlDateZone?: 'user' | 'site';
  now?: () => number;
}

export type RateLimitReason =
  'jira-burst-based' | 'jira-per-issue-on-write' | 'jira-quota-tenant-based';

const API_BASE = 'https://api.atlassian.com';
const ERR = (status: number, ...messages: string[]): Reply =>
  json(status, { errorMessages: messages, errors: {} });
const SCOPE_MISMATCH = (): Reply =>
  json(401, { code: 401, message: 'Unauthorized; scope does not match' });

/**
 * Offline Jira Cloud: Atlassian OAuth 2.0 (3LO) with rotating refresh tokens, accessible-resources,
 * `/ex/jira/{cloudId}/rest/api/3/` myself, enhanced JQL search and dynamic webhooks, 429 windows
 * and admin controls, all on one loopback port. Point PROVIDER_ORIGINS at it with `origins()`.
 */
export class JiraFake {
  readonly server: SandboxServer;
  readonly data: JiraData;
  readonly oauth: JiraOAuth;
  readonly webhooks: WebhookRegistry;
  readonly apps: JiraApp[];
  readonly sites = SEED_SITES;
  private readonly now: () => number;
  private readonly jqlDateZone: 'user' | 'site';
  private readonly forced: Array<{ reason: RateLimitReason; retryAfterSec: number }> = [];
  private readonly counts = { byRoute: {} as Record<string, number>, rateLimited: 0 };

  constructor(options: JiraFakeOptions = {}) {
    this.now = options.now ?? Date.now;
    this.jqlDateZone = options.jqlDateZone ?? 'user';
    this.apps = options.apps ?? [SANDBOX_JIRA_APP];
    this.server = new SandboxServer({
      port: options.port,
      host: options.host,
      notFoundBody: () => ({ errorMessages: ['Not found'], errors: {} }),
    });
    this.data = new JiraData(this.now);
    if (options.seed !== false) seedJira(this.data, options.seedAnchor?.getTime() ?? this.now());
    this.oauth = new JiraOAuth(this.server, this.data, this.apps, {
      accessTokenTtlSec: options.accessTokenTtlSec,
      reuseLeewaySec: options.refreshReuseLeewaySec,
      now: this.now,
    });
    this.webhooks = new WebhookRegistry(this.data, this.apps, this.now, {
      baseDelayMs: 100,
      ...options.webhooks,
    });
    this.mountApi();
    this.mountAdmin();
    this.server.addStats('jira', () => ({
      oauth: this.oauth.counters,
      apiCalls: { ...this.counts.byRoute },
      rateLimited: this.counts.rateLimited,
      webhooks: { registered: this.webhooks.hooks.size, deliveries: this.webhooks.pushes.stats() },
    }));
  }

  get url(): string {
    return this.server.url;
  }

  start(): Promise<string> {
    return this.server.start();
  }

  async stop(): Promise<void> {
    await this.webhooks.pushes.idle();
    await this.server.stop();
  }

  /** PROVIDER_ORIGINS: https://auth.atlassian.com and https://api.atlassian.com -> here. */
  origins(): Record<string, string> {
    return providerOrigins(this.url);
  }

  issueTokens(account: string, scopes: string[], clientId?: string): TokenBody {
    return this.oauth.issueTokens(account, scopes, clientId);
  }

  issuedSecrets(): string[] {
    return this.oauth.issuedSecrets();
  }

  createIssue(cloudId: string, input: IssueInput): IssueRec {
    const issue = this.data.create(cloudId, input);
    this.webhooks.deliver('jira:issue_created', issue);
    return issue;
  }

  updateIssue(cloudId: string, key: string, patch: IssuePatch): IssueRec {
    const { issue, items } = this.data.update(cloudId, key, patch);
    this.webhooks.deliver('jira:issue_updated', issue, items);
    return issue;
  }

  deleteIssue(cloudId: string, key: string): IssueRec {
    const issue = this.data.remove(cloudId, key);
    this.webhooks.deliver('jira:issue_deleted', issue);
    return issue;
  }

  /** The next `count` calls under `/ex/jira/` answer 429 with Jira's rate-limit headers. */
  rateLimitNext(count = 1, reason: RateLimitReason = 'jira-burst-based', retryAfterSec = 5): void {
    for (let i = 0; i < count; i++) this.forced.push({ reason, retryAfterSec });
  }

  whenIdle(): Promise<void> {
    return this.webhooks.pushes.idle();
  }

  deliveries(limit = 100): PushAttempt[] {
    return this.webhooks.pushes.log(limit);
  }

  stats(): Record<string, unknown> {
    return this.server.stats();
  }

  state(): Record<string, unknown> {
    return {
      accounts: this.data.accounts,
      sites: this.data.sites.map(({ nextIssueId: _n, ...s }) => s),
      projects: [...this.data.projects.values()].map(({ nextNumber: _n, ...p }) => p),
      issues: [...this.data.issues.values()].map((i) => ({
        cloudId: i.cloudId,
        key: i.key,
        summary: i.summary,
        status: i.status,
      })),
      webhooks: [...this.webhooks.hooks.values()],
    };
  }

  private mountApi(): void {
    const s = this.server;
    s.route('GET', '/oauth/token/accessible-resources', ({ req }) => {
      const tok = this.oauth.authenticate(req.headers.authorization);
      if (!tok) return json(401, { code: 401, message: 'Unauthorized' });
      return json(200, this.accessibleResources(tok));
    });
    const jira = (
      method: string,
      path: string,
      handler: (ctx: RequestContext, tok: AccessRec, site: SiteRec) => Reply,
      scopes: string[],
    ) =>
      s.route(method, `/ex/jira/:cloudId${path}`, (ctx) => {
        this.counts.byRoute[`${method} ${path}`] =
          (this.counts.byRoute[`${method} ${path}`] ?? 0) + 1;
        const limited = this.forced.shift();
        if (limited) return this.tooManyRequests(limited.reason, limited.retryAfterSec);
        const tok = this.oauth.authenticate(ctx.req.headers.authorization);
        if (!tok) return json(401, { code: 401, message: 'Unauthorized' });
        const site = this.data.site(ctx.params.cloudId);
        if (!site) return ERR(404, 'Site not found');
        if (site.product !== 'jira' || !site.members.includes(tok.accountId))
          return SCOPE_MISMATCH();
        if (!scopes.every((sc) => tok.scopes.includes(sc))) return SCOPE_MISMATCH();
        return handler(ctx, tok, site);
      });
    jira(
      'GET',
      '/rest/api/3/myself',
      (_c, tok, site) => {
        const a = this.data.account(tok.accountId);
        return json(200, {
          self: `${apiBase(site.id)}/rest/api/3/user?accountId=${a.accountId}`,
          accountId: a.accountId,
          accountType: 'atlassian',
          emailAddress: a.emailAddress,
          displayName: a.displayName,
          active: true,
          timeZone: a.timeZone,
          locale: 'en_US',
        });
      },
      ['read:jira-user'],
    );
    jira('POST', '/rest/api/3/search/jql', (ctx, tok, site) => this.search(ctx.body, tok, site), [
      'read:jira-work',
    ]);
    jira(
      'GET',
      '/rest/api/3/search/jql',
      (ctx, tok, site) => {
        const q = ctx.query;
        const body = {
          jql: q.get('jql') ?? undefined,
          nextPageToken: q.get('nextPageToken') ?? undefined,
          maxResults: q.has('maxResults') ? Number(q.get('maxResults')) : undefined,
          fields: q.has('fields') ? q.getAll('fields').flatMap((f) => f.split(',')) : undefined,
        };
        return this.search(body, tok, site);
      },
      ['read:jira-work'],
    );
    jira(
      'GET',
      '/rest/api/3/issue/:issueIdOrKey',
      ({ params, query }, _tok, site) => {
        const ref = params.issueIdOrKey;
        const issue = this.data
          .siteIssues(site.id)
          .find((i) => i.id === ref || i.key.toUpperCase() === ref.toUpperCase());
        if (!issue)
          return ERR(404, 'Issue does not exist or you do not have permission to see it.');
        // GET /issue answers every field unless `fields` names some (unlike search/jql).
        const fields = query.has('fields')
          ? query.getAll('fields').flatMap((f) => f.split(','))
          : ['*all'];
        const view = pick(this.data.view(issue, apiBase(site.id)), fields);
        return json(200, {
          ...view,
          key: issue.key,
          self: `${apiBase(site.id)}/rest/api/3/issue/${issue.id}`,
        });
      },
      ['read:jira-work'],
    );
    // Removed under CHANGE-2046 (https://developer.atlassian.com/changelog/#CHANGE-2046).
    for (const v of ['2', '3'])
      for (const m of ['GET', 'POST'])
        jira(
          m,
          `/rest/api/${v}/search`,
          () =>
            ERR(
              410,
              'The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046',
            ),
          [],
        );
    const hookScopes = ['read:jira-work', 'manage:jira-webhook'];
    jira(
      'POST',
      '/rest/api/3/webhook',
      ({ body }, tok, site) => {
        const b = (body ?? {}) as { url?: unknown; webhooks?: unknown };
        if (typeof b.url !== 'string' || !/^https?:\/\//.test(b.url) || !Array.isArray(b.webhooks))
          return ERR(400, 'The request body must contain a url and a webhooks array.');
        // One URL per app: registering another URL while webhooks with the old one live is refused.
        const other = this.webhooks.list(tok.clientId, site.id).find((h) => h.url !== b.url);
        if (other)
          return ERR(400, `Only one webhook URL per app is allowed; ${other.url} is registered.`);
        const results = this.webhooks.register(
          tok.clientId,
          site.id,
          b.url,
          b.webhooks as Array<Record<string, unknown>>,
        );
        return json(200, { webhookRegistrationResult: results });
      },
      hookScopes,
    );
    jira(
      'GET',
      '/rest/api/3/webhook',
      ({ query }, tok, site) => {
        const all = this.webhooks.list(tok.clientId, site.id);
        const startAt = Number(query.get('startAt') ?? 0);
        const maxResults = Math.min(Number(query.get('maxResults') ?? 100), 100);
        const values = all.slice(startAt, startAt + maxResults).map((h) => ({
          id: h.id,
          jqlFilter: h.jqlFilter,
          ...(h.fieldIdsFilter ? { fieldIdsFilter: h.fieldIdsFilter } : {}),
          events: h.events,
          expirationDate: h.expirationDate,
        }));
        return json(200, {
          maxResults,
          startAt,
          total: all.length,
          isLast: startAt + maxResults >= all.length,
          values,
        });
      },
      hookScopes,
    );
    jira(
      'DELETE',
      '/rest/api/3/webhook',
      ({ body }, tok, site) => {
        const ids = (body as { webhookIds?: unknown })?.webhookIds;
        if (!Array.isArray(ids)) return ERR(400, 'webhookIds is required.');
        this.webhooks.remove(tok.clientId, site.id, ids.map(Number));
        return empty(202);
      },
      hookScopes,
    );
    jira(
      'PUT',
      '/rest/api/3/webhook/refresh',
      ({ body }, tok, site) => {
        const ids = (body as { webhookIds?: unknown })?.webhookIds;
        if (!Array.isArray(ids)) return ERR(400, 'webhookIds is required.');
        return json(200, {
          expirationDate: this.webhooks.refresh(tok.clientId, site.id, ids.map(Number)),
        });
      },
      hookScopes,
    );
  }

  private accessibleResources(tok: AccessRec): unknown[] {
    return this.data.sites
      .filter((site) => site.members.includes(tok.accountId))
      .map((site) => ({
        id: site.id,
        name: site.name,
        url: site.url,
        scopes:
          site.product === 'jira'
            ? tok.scopes.filter((sc) => sc.includes('jira') || sc === 'read:me')
            : ['read:confluence-content.summary', 'search:confluence'],
        avatarUrl: 'https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/flag.png',
      }));
  }

  /** Enhanced search (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/). */
  private search(body: unknown, tok: AccessRec, site: SiteRec): Reply {
    const b = (body ?? {}) as {
      jql?: unknown;
      nextPageToken?: unknown;
      maxResults?: unknown;
      fields?: unknown;
    };
    if (typeof b.jql !== 'string') return ERR(400, 'The JQL query is required.');
    const ctx: EvalContext = {
      currentUser: tok.accountId,
      parseDate: (t) => {
        try {
          return parseJqlDate(t, this.jqlZone(tok, site), this.now());
        } catch (err) {
          throw new JqlError((err as Error).message);
        }
      },
    };
    let query;
    try {
      query = parseJql(b.jql);
      if (!query.where)
        return ERR(
          400,
          'Unbounded JQL queries are not allowed here. Please add a search restriction to your query.',
        );
      checkSearchable(query.where, ctx);
      for (const o of query.orderBy)
        if (!['updated', 'created', 'key', 'id'].includes(o.field))
          throw new JqlError(`Not able to sort using field '${o.field}'.`);
    } catch (err) {
      if (err instanceof JqlError) return ERR(400, err.message);
      throw err;
    }
    const fields = Array.isArray(b.fields)
      ? b.fields.map(String)
      : typeof b.fields === 'string'
        ? b.fields.split(',')
        : ['id'];
    const idOnly = fields.every((f) => f === 'id' || f === 'key');
    const limit = Math.max(1, Math.min(Number(b.maxResults ?? 50) || 50, idOnly ? 5000 : 100));
    let offset = 0;
    if (b.nextPageToken !== undefined) {
      const decoded = decodePageToken(String(b.nextPageToken), b.jql, this.now());
      if (decoded === undefined) return ERR(400, 'The nextPageToken is invalid or expired.');
      offset = decoded;
    }
    const hits = this.data
      .siteIssues(site.id)
      .filter((i) => matches(query.where, this.data.subject(i), ctx))
      .sort((x, y) => compare(x, y, query.orderBy));
    const page = hits.slice(offset, offset + limit);
    const isLast = offset + page.length >= hits.length;
    const out: Record<string, unknown> = {
      issues: page.map((i) => pick(this.data.view(i, apiBase(site.id)), fields)),
    };
    if (!isLast) out.nextPageToken = encodePageToken(offset + page.length, b.jql, this.now());
    out.isLast = isLast;
    return json(200, out);
  }

  /**
   * The zone JQL date literals are read in: the calling user's profile zone (what `/myself`
   * reports as `timeZone`) by default, or the site's with `jqlDateZone: 'site'`.
   */
  private jqlZone(tok: AccessRec, site: SiteRec): string {
    return this.jqlDateZone === 'site' ? site.timeZone : this.data.account(tok.accountId).timeZone;
  }

  private tooManyRequests(reason: RateLimitReason, retryAfterSec: number): Reply {
    this.counts.rateLimited++;
    const reset = new Date(this.now() + retryAfterSec * 1000).toISOString().slice(0, 16) + 'Z';
    const headers: Record<string, string> = {
      'retry-after': String(retryAfterSec),
      'x-ratelimit-limit': '100',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': reset,
      'x-ratelimit-nearlimit': 'true',
      'ratelimit-reason': reason,
    };
    if (reason === 'jira-quota-tenant-based') {
      headers['beta-ratelimit-policy'] = '"tenant-app-quota";q=100100;w=3600';
      headers['x-beta-ratelimit-reason'] = reason;
    }
    return json(429, { errorMessages: ['Rate limit exceeded.'], errors: {} }, headers);
  }

  private mountAdmin(): void {
    const s = this.server;
    const b = (body: unknown) => (body ?? {}) as Record<string, unknown>;
    s.admin('GET', '/state', () => json(200, this.state()));
    s.admin('GET', '/deliveries', ({ query }) =>
      json(200, { deliveries: this.deliveries(Number(query.get('limit') ?? 100)) }),
    );
    s.admin(
      'POST',
      '/deliveries/wait',
      async () => (await this.whenIdle(), json(200, this.webhooks.pushes.stats())),
    );
    s.admin('POST', '/sites/:cloudId/issues', ({ params, body }) =>
      json(
        201,
        this.data.view(
          this.createIssue(params.cloudId, b(body) as unknown as IssueInput),
          apiBase(params.cloudId),
        ),
      ),
    );
    s.admin('PATCH', '/sites/:cloudId/issues/:key', ({ params, body }) =>
      json(
        200,
        this.data.view(
          this.updateIssue(params.cloudId, params.key, b(body) as IssuePatch),
          apiBase(params.cloudId),
        ),
      ),
    );
    s.admin('DELETE', '/sites/:cloudId/issues/:key', ({ params }) => {
      this.deleteIssue(params.cloudId, params.key);
      return empty();
    });
    s.admin('POST', '/rate-limit', ({ body }) => {
      const x = b(body);
      this.rateLimitNext(
        Number(x.count ?? 1),
        (x.reason as RateLimitReason) ?? 'jira-burst-based',
        Number(x.retryAfterSec ?? 5),
      );
      return json(201, { pending: this.forced.length });
    });
    s.admin('POST', '/oauth/tokens', ({ body }) => {
      const x = b(body);
      return json(
        200,
        this.issueTokens(String(x.account ?? 'alice'), (x.scopes as string[]) ?? DEFAULT_SCOPES),
      );
    });
    s.admin('POST', '/oauth/expire-access-tokens', () =>
      json(200, { expired: this.oauth.expireAccessTokens() }),
    );
    s.admin('POST', '/oauth/auto', ({ body }) => {
      const x = b(body);
      this.oauth.setAutoDecision(
        x.decision
          ? { decision: x.decision as 'allow', account: x.account as string | undefined }
          : undefined,
      );
      return empty();
    });
  }
}

/** The scopes a sync-and-webhooks integration asks for. */
export const DEFAULT_SCOPES = [
  'read:jira-work',
  'read:jira-user',
  'manage:jira-webhook',
  'offline_access',
];

function apiBase(cloudId: string): string {
  return `${API_BASE}/ex/jira/${cloudId}`;
}

function compare(
  x: IssueRec,
  y: IssueRec,
  order: Array<{ field: string; dir: 'asc' | 'desc' }>,
): number {
  for (const o of order) {
    const d =
      o.field === 'key'
        ? x.key.localeCompare(y.key, 'en', { numeric: true })
        : o.field === 'id'
          ? Number(x.id) - Number(y.id)
          : x[o.field as 'updated' | 'created'] - y[o.field as 'updated' | 'created'];
    if (d !== 0) return o.dir === 'asc' ? d : -d;
  }
  return Number(y.id) - Number(x.id);
}

/** `fields`: `id` only by default; `*all` / `*navigable`; a list; `-name` excludes. */
function pick(view: ReturnType<JiraData['view']>, fields: string[]): Record<string, unknown> {
  if (fields.every((f) => f === 'id')) return { id: view.id };
  const all = fields.some((f) => f === '*all' || f === '*navigable');
  const exclude = new Set(fields.filter((f) => f.startsWith('-')).map((f) => f.slice(1)));
  const include = new Set(fields.filter((f) => !f.startsWith('-') && !f.startsWith('*')));
  const picked: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(view.fields)) {
    if ((all || include.has(k)) && !exclude.has(k)) picked[k] = v;
  }
  return { id: view.id, key: view.key, self: view.self, fields: picked };
}

const PAGE_TOKEN_TTL = 7 * 86_400_000;

function encodePageToken(offset: number, jql: string, now: number): string {
  return Buffer.from(JSON.stringify({ o: offset, q: jql, t: now })).toString('base64url');
}

function decodePageToken(token: string, jql: string, now: number): number | undefined {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      o: number;
      q: string;
      t: number;
    };
    if (v.q !== jql || !Number.isInteger(v.o) || now - v.t > PAGE_TOKEN_TTL) return undefined;
    return v.o;
  } catch {
    return undefined;
  }
}
