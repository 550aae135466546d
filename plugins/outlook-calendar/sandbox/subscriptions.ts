import { randomUUID } from 'node:crypto';
import {
  json,
  empty,
  PushSender,
  type Reply,
  type RequestContext,
} from '@pdeck/integration-sdk/sandbox';
import { graphError } from './graph-errors.js';
import type { Mailbox } from './mailbox.js';

/** Outlook resources (events) allow at most 4230 minutes until expirationDateTime. */
export const MAX_SUBSCRIPTION_MINUTES = 4230;
/** Graph waits this long for the validation answer. */
const VALIDATION_TIMEOUT_MS = 10_000;

export interface FakeSubscription {
  id: string;
  mailbox: Mailbox;
  resource: string;
  changeType: string[];
  clientState: string | null;
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  expirationDateTime: number;
  applicationId: string;
  renewals: number;
  reauthorizations: number;
}

export interface ValidationAttempt {
  url: string;
  ok: boolean;
  status: number;
  ms: number;
}

export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

/**
 * /v1.0/subscriptions as https://learn.microsoft.com/en-us/graph/api/subscription-post-subscriptions
 * describes it, for Outlook events. Before answering 201, the validation handshake runs against
 * notificationUrl and lifecycleNotificationUrl: POST `?validationToken=...`, and the endpoint must
 * answer 200 text/plain with the decoded token within 10 s, else the create fails with 400. URLs
 * must be https, unless `allowHttpLoopback` (tests, the local sandbox) lets http://127.0.0.1 in.
 */
export class SubscriptionsFake {
  readonly all = new Map<string, FakeSubscription>();
  readonly validations: ValidationAttempt[] = [];
  readonly push = new PushSender({ retries: 2, baseDelayMs: 200 });

  constructor(private readonly options: { allowHttpLoopback: boolean; now: () => number }) {}

  active(mailbox?: Mailbox): FakeSubscription[] {
    return [...this.all.values()].filter(
      (s) => s.expirationDateTime > this.options.now() && (!mailbox || s.mailbox === mailbox),
    );
  }

  async create(mailbox: Mailbox, clientId: string, ctx: RequestContext): Promise<Reply> {
    const body = (ctx.body ?? {}) as Record<string, unknown>;
    const text = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
    const changeType = (text('changeType') ?? '').split(',').map((s) => s.trim());
    if (!changeType.every((c) => ['created', 'updated', 'deleted'].includes(c))) {
      return graphError(400, 'ExtensionError', 'Invalid changeType.');
    }
    const resource = text('resource') ?? '';
    if (!/^\/?(me|users\/[^/]+)\/events$/i.test(resource)) {
      return graphError(400, 'ExtensionError', `Unsupported resource '${resource}'.`);
    }
    const notificationUrl = text('notificationUrl') ?? '';
    const lifecycleNotificationUrl = text('lifecycleNotificationUrl') ?? null;
    for (const url of [notificationUrl, lifecycleNotificationUrl]) {
      if (url !== null && !this.acceptableUrl(url)) {
        return graphError(400, 'InvalidRequest', 'The Url must make use of the HTTPS protocol.');
      }
    }
    const clientState = text('clientState') ?? null;
    if (clientState !== null && clientState.length > 128) {
      return graphError(400, 'InvalidRequest', 'clientState must be at most 128 characters.');
    }
    const expiration = this.checkExpiration(text('expirationDateTime'));
    if (typeof expiration !== 'number') return expiration;
    for (const url of [notificationUrl, lifecycleNotificationUrl]) {
      if (url !== null && !(await this.validate(url))) {
        return graphError(
          400,
          'InvalidRequest',
          'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
        );
      }
    }
    const sub: FakeSubscription = {
      id: randomUUID(),
      mailbox,
      resource,
      changeType,
      clientState,
      notificationUrl,
      lifecycleNotificationUrl,
      expirationDateTime: expiration,
      applicationId: clientId,
      renewals: 0,
      reauthorizations: 0,
    };
    this.all.set(sub.id, sub);
    return json(201, this.view(sub));
  }

  renew(mailbox: Mailbox, id: string, ctx: RequestContext): Reply {
    const sub = this.find(mailbox, id);
    if (!sub) return notFound(id);
    const body = (ctx.body ?? {}) as Record<string, unknown>;
    const raw = typeof body.expirationDateTime === 'string' ? body.expirationDateTime : undefined;
    const expiration = this.checkExpiration(raw);
    if (typeof expiration !== 'number') return expiration;
    sub.expirationDateTime = expiration;
    sub.renewals += 1;
    return json(200, this.view(sub));
  }

  reauthorize(mailbox: Mailbox, id: string): Reply {
    const sub = this.find(mailbox, id);
    if (!sub) return notFound(id);
    sub.reauthorizations += 1;
    return empty(204);
  }

  delete(mailbox: Mailbox, id: string): Reply {
    if (!this.find(mailbox, id)) return notFound(id);
    this.all.delete(id);
    return empty(204);
  }

  /** A change notification per active subscription of the mailbox that asked for this change. */
  notify(mailbox: Mailbox, eventId: string, changeType: 'created' | 'updated' | 'deleted'): void {
    for (const sub of this.active(mailbox)) {
      if (!sub.changeType.includes(changeType)) continue;
      const resource = `Users/${mailbox.user.id}/Events/${eventId}`;
      this.send(sub.notificationUrl, {
        subscriptionId: sub.id,
        subscriptionExpirationDateTime: iso(sub.expirationDateTime),
        changeType,
        resource,
        resourceData: {
          '@odata.type': '#Microsoft.Graph.Event',
          '@odata.id': resource,
          '@odata.etag': 'W/"DwAAABYAAAA="',
          id: eventId,
        },
        clientState: sub.clientState,
        tenantId: mailbox.tenantId,
      });
    }
  }

  /**
   * A lifecycle notification (https://learn.microsoft.com/en-us/graph/change-notifications-lifecycle-events)
   * to the subscription's lifecycleNotificationUrl. `subscriptionRemoved` also drops it here.
   */
  lifecycle(id: string, lifecycleEvent: LifecycleEvent): boolean {
    const sub = this.all.get(id);
    if (!sub?.lifecycleNotificationUrl) return false;
    this.send(sub.lifecycleNotificationUrl, {
      subscriptionId: sub.id,
      subscriptionExpirationDateTime: iso(sub.expirationDateTime),
      tenantId: sub.mailbox.tenantId,
      clientState: sub.clientState,
      lifecycleEvent,
    });
    if (lifecycleEvent === 'subscriptionRemoved') this.all.delete(id);
    return true;
  }

  view(sub: FakeSubscription): Record<string, unknown> {
    return {
      '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity',
      id: sub.id,
      resource: sub.resource,
      applicationId: sub.applicationId,
      changeType: sub.changeType.join(','),
      clientState: sub.clientState,
      notificationUrl: sub.notificationUrl,
      lifecycleNotificationUrl: sub.lifecycleNotificationUrl,
      expirationDateTime: iso(sub.expirationDateTime),
      creatorId: sub.mailbox.user.id,
      includeResourceData: false,
      latestSupportedTlsVersion: 'v1_2',
      encryptionCertificate: null,
      encryptionCertificateId: null,
      notificationUrlAppId: null,
    };
  }

  private send(url: string, entry: Record<string, unknown>): void {
    this.push.send(
      url,
      { 'content-type': 'application/json; charset=utf-8' },
      JSON.stringify({ value: [entry] }),
    );
  }

  private find(mailbox: Mailbox, id: string): FakeSubscription | undefined {
    const sub = this.all.get(id);
    return sub && sub.mailbox === mailbox && sub.expirationDateTime > this.options.now()
      ? sub
      : undefined;
  }

  private checkExpiration(raw: string | undefined): number | Reply {
    const at = Date.parse(raw ?? '');
    const now = this.options.now();
    if (!Number.isFinite(at) || at <= now) {
      return graphError(400, 'InvalidRequest', 'expirationDateTime must be in the future.');
    }
    if (at > now + MAX_SUBSCRIPTION_MINUTES * 60_000) {
      return graphError(
        400,
        'InvalidRequest',
        `Subscription expiration can only be ${MAX_SUBSCRIPTION_MINUTES} minutes in the future.`,
      );
    }
    return at;
  }

  private acceptableUrl(raw: string): boolean {
    try {
      const url = new URL(raw);
      if (url.protocol === 'https:') return true;
      const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost';
      return this.options.allowHttpLoopback && url.protocol === 'http:' && loopback;
    } catch {
      return false;
    }
  }

  /** The handshake: the exact token back, 200, text/plain, within 10 s. */
  private async validate(url: string): Promise<boolean> {
    const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
    const target = new URL(url);
    target.searchParams.set('validationToken', token);
    const started = performance.now();
    let status = 0;
    let ok = false;
    try {
      const res = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: '',
        redirect: 'manual',
        signal: AbortSignal.timeout(VALIDATION_TIMEOUT_MS),
      });
      status = res.status;
      const type = res.headers.get('content-type') ?? '';
      ok =
        status === 200 &&
        type.toLowerCase().startsWith('text/plain') &&
        (await res.text()) === token;
    } catch {
      ok = false;
    }
    this.validations.push({ url, ok, status, ms: Math.round(performance.now() - started) });
    return ok;
  }
}

function notFound(id: string): Reply {
  return graphError(404, 'ResourceNotFound', `The object was not found. Subscription id: ${id}`);
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}
