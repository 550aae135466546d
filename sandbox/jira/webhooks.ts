import { createHmac, randomUUID } from 'node:crypto';
import { PushSender, type PushSenderOptions } from '@pdeck/integration-sdk/sandbox';
import { matches, parseJql, webhookFilterError, type EvalContext } from './jql.js';
import type { ChangeItem, IssueRec, JiraData } from './jira-data.js';
import type { JiraApp } from './jira-oauth.js';

export interface WebhookRec {
  id: number;
  clientId: string;
  cloudId: string;
  url: string;
  events: string[];
  jqlFilter: string;
  fieldIdsFilter?: string[];
  expirationDate: number;
}

export type IssueEvent = 'jira:issue_created' | 'jira:issue_updated' | 'jira:issue_deleted';

const THIRTY_DAYS = 30 * 86_400_000;
const EVENTS = new Set([
  'jira:issue_created',
  'jira:issue_updated',
  'jira:issue_deleted',
  'comment_created',
  'comment_updated',
  'comment_deleted',
  'issue_property_set',
  'issue_property_deleted',
]);

/** HS256 JWT (compact form) signed with `secret`. */
export function signJwt(claims: Record<string, unknown>, secret: string): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(claims)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

/**
 * Dynamic (REST-registered) webhooks of OAuth 2.0 apps, per app and site, with Jira's 30-day
 * expiry and refresh (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-webhooks/),
 * and issue event deliveries (https://developer.atlassian.com/cloud/jira/platform/webhooks/).
 * Deliveries carry `Authorization: Bearer <JWT>` signed HS256 with the app's client secret, and
 * `X-Atlassian-Webhook-Identifier` (stable across retries). Jira retries 408, 409, 425, 429, 5xx.
 */
export class WebhookRegistry {
  readonly hooks = new Map<number, WebhookRec>();
  readonly pushes: PushSender;
  private nextId = 10000;

  constructor(
    private readonly data: JiraData,
    private readonly apps: JiraApp[],
    private readonly now: () => number,
    pushOptions: PushSenderOptions = {},
  ) {
    this.pushes = new PushSender({
      retryStatuses: [408, 409, 425, 429, 500, 502, 503, 504],
      ...pushOptions,
    });
  }

  /** `POST /webhook`: per-entry results, failed entries carry `errors` (the HTTP status stays 200). */
  register(
    clientId: string,
    cloudId: string,
    url: string,
    entries: Array<Record<string, unknown>>,
  ): Array<{ createdWebhookId: number } | { errors: string[] }> {
    return entries.map((e) => {
      const errors: string[] = [];
      const events = Array.isArray(e.events) ? e.events.map(String) : [];
      if (!events.length) errors.push('At least one event is required.');
      for (const ev of events) if (!EVENTS.has(ev)) errors.push(`Unsupported event: ${ev}.`);
      const jql = typeof e.jqlFilter === 'string' ? e.jqlFilter : undefined;
      const filterError = webhookFilterError(jql);
      if (filterError) errors.push(filterError);
      if (errors.length) return { errors };
      const rec: WebhookRec = {
        id: this.nextId++,
        clientId,
        cloudId,
        url,
        events,
        jqlFilter: jql!,
        fieldIdsFilter: Array.isArray(e.fieldIdsFilter) ? e.fieldIdsFilter.map(String) : undefined,
        expirationDate: this.now() + THIRTY_DAYS,
      };
      this.hooks.set(rec.id, rec);
      return { createdWebhookId: rec.id };
    });
  }

  /** The app's live webhooks on the site. */
  list(clientId: string, cloudId: string): WebhookRec[] {
    return [...this.hooks.values()].filter(
      (h) => h.clientId === clientId && h.cloudId === cloudId && h.expirationDate > this.now(),
    );
  }

  remove(clientId: string, cloudId: string, ids: number[]): void {
    for (const id of ids) {
      const h = this.hooks.get(id);
      if (h && h.clientId === clientId && h.cloudId === cloudId) this.hooks.delete(id);
    }
  }

  refresh(clientId: string, cloudId: string, ids: number[]): number {
    const expirationDate = this.now() + THIRTY_DAYS;
    for (const id of ids) {
      const h = this.hooks.get(id);
      if (h && h.clientId === clientId && h.cloudId === cloudId) h.expirationDate = expirationDate;
    }
    return expirationDate;
  }

  /**
   * Posts one delivery per (app, URL) whose live webhooks match the event: the `events`, the
   * `jqlFilter` (on the issue after the change; before it for a deletion) and, for updates,
   * `fieldIdsFilter` against the changelog.
   */
  deliver(event: IssueEvent, issue: IssueRec, changelog?: ChangeItem[]): void {
    const site = this.data.site(issue.cloudId)!;
    const ctx: EvalContext = { currentUser: '', parseDate: () => NaN };
    const groups = new Map<string, WebhookRec[]>();
    for (const h of this.liveOnSite(issue.cloudId)) {
      if (!h.events.includes(event)) continue;
      if (!matches(parseJql(h.jqlFilter).where, this.data.subject(issue), ctx)) continue;
      if (event === 'jira:issue_updated' && h.fieldIdsFilter?.length) {
        const changed = new Set((changelog ?? []).map((c) => c.fieldId));
        if (!h.fieldIdsFilter.some((f) => changed.has(f))) continue;
      }
      const key = `${h.clientId}\n${h.url}`;
      groups.set(key, [...(groups.get(key) ?? []), h]);
    }
    const timestamp = this.now();
    for (const hooks of groups.values()) {
      const app = this.apps.find((a) => a.clientId === hooks[0].clientId);
      if (!app) continue;
      const payload: Record<string, unknown> = {
        timestamp,
        webhookEvent: event,
        issue_event_type_name:
          event === 'jira:issue_created'
            ? 'issue_created'
            : event === 'jira:issue_deleted'
              ? 'issue_deleted'
              : 'issue_generic',
        matchedWebhookIds: hooks.map((h) => h.id),
        // `self` is on the site's own URL here (not api.atlassian.com): with one webhook URL per app,
        // receivers route a delivery to its site by the origin of `issue.self`.
        issue: this.data.view(issue, site.url),
      };
      if (changelog)
        payload.changelog = { id: String(10000 + (timestamp % 100000)), items: changelog };
      const iat = Math.floor(timestamp / 1000);
      const jwt = signJwt(
        { iss: 'jira', aud: app.clientId, context: { cloudId: site.id }, iat, exp: iat + 900 },
        app.clientSecret,
      );
      this.pushes.send(
        hooks[0].url,
        {
          'content-type': 'application/json; charset=utf-8',
          authorization: `Bearer ${jwt}`,
          'x-atlassian-webhook-identifier': randomUUID(),
          'x-atlassian-webhook-flow': 'Primary',
          'user-agent': 'Atlassian Webhook HTTP Client',
        },
        JSON.stringify(payload),
      );
    }
  }

  private liveOnSite(cloudId: string): WebhookRec[] {
    return [...this.hooks.values()].filter(
      (h) => h.cloudId === cloudId && h.expirationDate > this.now(),
    );
  }
}
