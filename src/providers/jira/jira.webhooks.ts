import {
  bearerToken,
  isProviderError,
  ProviderError,
  type ProviderContext,
  type SyncResource,
  type NewSubscription,
  type RoutedConnection,
  type StoredWebhookDelivery,
  type StoredWebhookSubscription,
  type VerifyResult,
  type WebhookEvent,
  type WebhookHandler,
  type WebhookParseContext,
  type WebhookRequest,
  type WebhookVerifyContext,
  verifyHs256Jwt,
} from '@pdeck/integration-sdk';
import { JIRA_ID, jiraPath } from './jira.catalog.js';
import { jiraError } from './jira.errors.js';
import { callJira } from './jira.http.js';
import { hasFullFields, issueDeletion, mapIssue } from './jira.mapper.js';
import { siteHost, siteOf } from './jira.site.js';
import type { JiraWebhookPayload, JiraWebhookRegistration } from './jira.types.js';

/**
 * Webhooks registered through the REST API by OAuth 2.0 apps expire after 30 days unless
 * refreshed (https://developer.atlassian.com/cloud/jira/platform/webhooks/).
 */
export const WEBHOOK_TTL_MS = 30 * 24 * 3600_000;
/** Refresh a week before expiry: many renewal rounds can fail before a webhook lapses. */
export const RENEW_BEFORE_MS = 7 * 24 * 3600_000;
/** Clock skew allowed between Jira and us when checking the delivery JWT's `exp`. */
export const JWT_CLOCK_TOLERANCE_S = 30;

export const ISSUE_EVENTS = ['jira:issue_created', 'jira:issue_updated', 'jira:issue_deleted'];

const H = {
  authorization: 'authorization',
  identifier: 'x-atlassian-webhook-identifier',
  flow: 'x-atlassian-webhook-flow',
  retry: 'x-atlassian-webhook-retry',
} as const;

/** Longest delivery id we store; the identifier is a short opaque string. */
const MAX_IDENTIFIER = 200;
/** Bounds what the local filter check reads (and how deep its recursion can go). */
const MAX_FILTER = 1_000;
/** `<webhook id>@<site host>`, see `subscribe`. */
const EXTERNAL_ID = /^(\d{1,15})@([^@\s]+)$/;

/**
 * Jira Cloud dynamic webhooks of our OAuth 2.0 app: one per connection, on its site, filtered by
 * JQL to that connection's scope (https://developer.atlassian.com/cloud/jira/platform/webhooks/).
 * The app has one callback URL for every site, so a delivery is routed by the host of
 * `issue.self` (the site's own URL) plus `matchedWebhookIds`; webhook ids are only unique per
 * site, hence the subscription's external id `<webhook id>@<site host>`. Issue payloads usually
 * carry every field and become upserts; anything partial becomes an incremental sync of the site.
 */
export class JiraWebhooks implements WebhookHandler {
  readonly storedHeaders = [H.identifier, H.flow, H.retry] as const;
  readonly renewBefore = RENEW_BEFORE_MS;

  /**
   * Deliveries carry `Authorization: Bearer <JWT>`, HS256 with the app's client secret. Which
   * claims Atlassian puts in that token (iss, aud, qsh, context) is UNCONFIRMED in its public
   * docs, so only the signature and `exp` (required) are checked: requiring a claim it does not
   * send would refuse every delivery. The algorithm is pinned, so `none` and keys of another kind
   * cannot pass; a token far beyond any real delivery's size (8 KiB) is refused before any crypto.
   */
  async verify(req: WebhookRequest, ctx: WebhookVerifyContext): Promise<VerifyResult> {
    const jwt = await verifyHs256Jwt(bearerToken(req.headers[H.authorization]), ctx.appSecret, {
      now: ctx.now(),
      clockToleranceSeconds: JWT_CLOCK_TOLERANCE_S,
      requiredClaims: ['exp'],
    });
    if (!jwt.ok) return { ok: false, reason: jwt.reason };
    // Authentic from here on (400, not 401): Jira keeps the identifier across its retries.
    const identifier = req.headers[H.identifier]?.trim();
    if (!identifier || identifier.length > MAX_IDENTIFIER || /[\p{Cc}]/u.test(identifier)) {
      return { ok: false, status: 400, reason: 'no usable X-Atlassian-Webhook-Identifier' };
    }
    if (!parsePayload(req.rawBody.toString('utf8'))) {
      return { ok: false, status: 400, reason: 'body is not a JSON object' };
    }
    return { ok: true, deliveryId: identifier };
  }

  /**
   * Issue created/updated/deleted only; other events (comments, properties) -> []. Every
   * connection whose webhook on this site matched is served, each once.
   */
  async parse(delivery: StoredWebhookDelivery, ctx: WebhookParseContext): Promise<WebhookEvent[]> {
    const payload = parsePayload(delivery.body);
    const event = payload?.webhookEvent;
    const issue = payload?.issue;
    if (!event || !ISSUE_EVENTS.includes(event) || !issue) return [];
    const host = typeof issue.self === 'string' ? siteHost(issue.self) : null;
    const ids = webhookIdsOf(payload.matchedWebhookIds);
    if (!host || ids.length === 0) return [];
    const routed = new Map<string, RoutedConnection>();
    for (const id of ids) {
      for (const c of await ctx.findConnections({ subscriptionExternalId: `${id}@${host}` })) {
        if (!routed.has(c.connectionId)) routed.set(c.connectionId, c);
      }
    }
    const at = typeof payload.timestamp === 'number' ? payload.timestamp : undefined;
    const events: WebhookEvent[] = [];
    for (const { connectionId, resourceId } of routed.values()) {
      // The subscription watches the site, so its resource id is the cloud id.
      if (!resourceId) continue;
      if (event === 'jira:issue_deleted') {
        if (typeof issue.id !== 'string' || !issue.id) continue;
        const deletions = [issueDeletion(issue.id, at)];
        events.push({ type: 'items', connectionId, upserts: [], deletions });
        continue;
      }
      const site = { cloudId: resourceId, url: `https://${host}`, name: host };
      const item = hasFullFields(issue) ? mapIssue(issue, site) : null;
      // Partial (or unmappable) issue: a sync reads it whole instead of blanking what is missing.
      events.push(
        item
          ? { type: 'items', connectionId, upserts: [item], deletions: [] }
          : { type: 'resource-changed', connectionId, resourceId },
      );
    }
    return events;
  }

  /**
   * POST /rest/api/3/webhook for the connection's site. The filter is the user's own JQL
   * (`settings.jql`) when it fits the restricted grammar of webhook filters, else the issues
   * assigned to the connection's owner (its default scope). Jira answers 200 even when it
   * refuses an entry, with the reasons in `errors`, so the next filter is tried. Which filter won
   * is not stored (NewSubscription has no field for it): the stored `jqlFilter` is readable with
   * GET /rest/api/3/webhook.
   *
   * When every filter is refused this throws PERMISSION `webhook_filter_rejected` rather than
   * returning null: a null is recorded only as "the provider offers no subscription" and never
   * retried until a reconnect, while a throw keeps Jira's reasons in the resource's last error
   * and is retried with backoff (a settings change may fix it). Scheduled syncs cover the site
   * meanwhile either way.
   */
  async subscribe(
    ctx: ProviderContext,
    resource: SyncResource,
    callbackUrl: string,
  ): Promise<NewSubscription> {
    const site = await siteOf(ctx);
    const host = siteHost(site.url);
    if (!host) throw jiraError('UNKNOWN', `the site URL ${site.url} is unreadable`, 'bad_site_url');
    if (resource.id !== site.cloudId) {
      // Renewal and removal address the webhook by the subscription's resource id.
      throw jiraError('NOT_FOUND', `${resource.id} is not this site`, 'not_this_site');
    }
    const refusals: string[] = [];
    const custom = ctx.settings.jql;
    const filters: string[] = [];
    if (typeof custom === 'string' && isWebhookFilter(custom)) filters.push(custom.trim());
    else if (typeof custom === 'string') refusals.push('settings.jql: not a webhook filter');
    filters.push(`assignee = ${jqlString(ctx.accountId)}`);

    for (const jqlFilter of filters) {
      const answer = await callJira<JiraWebhookRegistration>(ctx, {
        operation: 'webhooks.register',
        method: 'POST',
        path: `${jiraPath(site.cloudId)}/webhook`,
        json: { url: callbackUrl, webhooks: [{ events: ISSUE_EVENTS, jqlFilter }] },
      });
      const result = answer?.webhookRegistrationResult?.[0];
      const id = result?.createdWebhookId;
      if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) {
        return {
          externalId: `${id}@${host}`,
          externalResourceId: site.url,
          // The registration answer names no expiry: the documented lifetime from now.
          expiresAt: new Date(Date.now() + WEBHOOK_TTL_MS),
        };
      }
      if (!Array.isArray(result?.errors)) {
        throw jiraError('UNKNOWN', 'webhook registration answered no id');
      }
      refusals.push(`${jqlFilter}: ${result.errors.join('; ') || 'refused'}`);
    }
    throw new ProviderError(
      'PERMISSION',
      `${JIRA_ID}: every webhook filter was refused (${refusals.join(' | ')})`.slice(0, 500),
      { provider: JIRA_ID, detail: 'webhook_filter_rejected' },
    );
  }

  /**
   * PUT /rest/api/3/webhook/refresh. Jira ignores ids it does not know (another app's, or one
   * already expired) and still answers a date, so a lost webhook is not detected here
   * (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-webhooks/).
   */
  async renew(ctx: ProviderContext, sub: StoredWebhookSubscription): Promise<NewSubscription> {
    const id = webhookIdOf(sub.externalId);
    const answer = await callJira<{ expirationDate?: unknown }>(ctx, {
      operation: 'webhooks.refresh',
      method: 'PUT',
      path: `${jiraPath(sub.resourceId)}/webhook/refresh`,
      json: { webhookIds: [id] },
    });
    return {
      externalId: sub.externalId,
      externalResourceId: sub.externalResourceId ?? undefined,
      expiresAt: expiryOf(answer?.expirationDate),
    };
  }

  /**
   * DELETE /rest/api/3/webhook (202). A site we can no longer reach or a grant that is gone leaves
   * nothing we could stop: the webhook expires on its own within 30 days.
   */
  async unsubscribe(ctx: ProviderContext, sub: StoredWebhookSubscription): Promise<void> {
    const id = webhookIdOf(sub.externalId);
    try {
      await callJira<void>(ctx, {
        operation: 'webhooks.delete',
        method: 'DELETE',
        path: `${jiraPath(sub.resourceId)}/webhook`,
        json: { webhookIds: [id] },
        expect: 'none',
      });
    } catch (error) {
      if (isProviderError(error) && (error.code === 'NOT_FOUND' || error.code === 'AUTH_REVOKED')) {
        return;
      }
      throw error;
    }
  }
}

/**
 * Whether `jql` fits the restricted grammar of webhook filters
 * (https://developer.atlassian.com/cloud/jira/platform/webhooks/): fields issueKey, project,
 * issuetype, status, assignee, reporter; operators =, !=, IN, NOT IN; AND, OR, parentheses. No
 * functions, EMPTY, ORDER BY or other fields. Deliberately narrower than Jira (custom fields and
 * issue properties are refused): whatever this refuses falls back to the default filter, and
 * Jira refusing a filter we passed costs only one more call.
 */
export function isWebhookFilter(jql: string): boolean {
  if (!jql.trim() || jql.length > MAX_FILTER) return false;
  const toks = tokenize(jql);
  if (!toks) return false;
  let i = 0;
  const word = (w: string) => toks[i]?.t === 'word' && toks[i].v.toLowerCase() === w;
  const eat = (v: string) => (toks[i]?.t === 'punct' && toks[i].v === v ? (i++, true) : false);
  const value = (): boolean => {
    const t = toks[i++];
    return t?.t === 'str' || (t?.t === 'word' && !KEYWORDS.has(t.v.toLowerCase()));
  };
  const clause = (): boolean => {
    const field = toks[i++];
    if (field?.t !== 'word' || !FILTER_FIELDS.has(field.v.toLowerCase())) return false;
    if (toks[i]?.t === 'op') return (i++, value());
    if (word('not')) i++;
    if (!word('in')) return false;
    i++;
    if (!eat('(')) return false;
    do if (!value()) return false;
    while (eat(','));
    return eat(')');
  };
  const primary = (): boolean => (eat('(') ? or() && eat(')') : clause());
  const and = (): boolean => {
    if (!primary()) return false;
    while (word('and')) if ((i++, !primary())) return false;
    return true;
  };
  const or = (): boolean => {
    if (!and()) return false;
    while (word('or')) if ((i++, !and())) return false;
    return true;
  };
  return or() && i === toks.length;
}

const FILTER_FIELDS = new Set([
  'issuekey',
  'project',
  'issuetype',
  'status',
  'assignee',
  'reporter',
]);
/** Reserved words that may not stand unquoted as a value (EMPTY/NULL are not supported). */
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'empty', 'null', 'order', 'by']);

type Tok = { t: 'word' | 'str' | 'op' | 'punct'; v: string };

/**
 * Words are letters, digits, `_` and `-` (project keys, issue keys, ids); anything else must be
 * quoted. Only `=` and `!=` are operators. Null for any other character.
 */
function tokenize(jql: string): Tok[] | null {
  const out: Tok[] = [];
  const re = /\s+|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|!=|=|[(),]|[A-Za-z0-9_-]+/y;
  while (re.lastIndex < jql.length) {
    const m = re.exec(jql);
    if (!m) return null;
    const v = m[0];
    if (/^\s/.test(v)) continue;
    if (v[0] === '"' || v[0] === "'") out.push({ t: 'str', v });
    else if (v === '=' || v === '!=') out.push({ t: 'op', v });
    else if ('(),'.includes(v)) out.push({ t: 'punct', v });
    else out.push({ t: 'word', v });
  }
  return out;
}

/** A JQL string literal: double-quoted, with backslashes and quotes escaped. */
function jqlString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function parsePayload(text: string): JiraWebhookPayload | null {
  try {
    const body = JSON.parse(text) as unknown;
    return body && typeof body === 'object' && !Array.isArray(body)
      ? (body as JiraWebhookPayload)
      : null;
  } catch {
    return null;
  }
}

/** Distinct non-negative integer ids; digit strings are accepted too. */
function webhookIdsOf(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const ids = value
    .map((v) => (typeof v === 'number' || typeof v === 'string' ? String(v) : ''))
    .filter((v) => /^\d{1,15}$/.test(v));
  return [...new Set(ids)];
}

function webhookIdOf(externalId: string): number {
  const m = EXTERNAL_ID.exec(externalId);
  if (!m)
    throw jiraError(
      'UNKNOWN',
      `malformed webhook subscription id ${externalId}`,
      'bad_external_id',
    );
  return Number(m[1]);
}

/**
 * The refresh answer's `expirationDate`: epoch ms in the published schema, an ISO-like string in
 * its example; either is read. Anything else: the documented lifetime from now, which can only
 * make the next refresh come early.
 */
function expiryOf(value: unknown): Date {
  const ms =
    typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : NaN;
  return new Date(Number.isFinite(ms) && ms > 0 ? ms : Date.now() + WEBHOOK_TTL_MS);
}
