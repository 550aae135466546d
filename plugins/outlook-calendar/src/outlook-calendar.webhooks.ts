import { createHash, randomBytes } from 'node:crypto';
import { isProviderError, safeEqual } from '@pdeck/integration-sdk';
import type * as Sdk from '@pdeck/integration-sdk';
import { GRAPH_API } from './outlook-calendar.catalog.js';
import { failure, graph } from './outlook-calendar.http.js';

/** Outlook event subscriptions live at most 4230 minutes; we ask for half an hour less. */
export const SUBSCRIPTION_TTL_MS = 4200 * 60_000;
/** Validation tokens we echo as text/plain: printable ASCII, bounded (no limit documented). */
const TOKEN = /^[\x20-\x7e]{1,1024}$/;
const ACTIONS: Record<string, 'renew' | 'replace'> = {
  reauthorizationRequired: 'renew',
  subscriptionRemoved: 'replace',
};
type Entry = Record<'subscriptionId' | 'clientState' | 'changeType' | 'lifecycleEvent', unknown>;

/**
 * Graph change notifications on the mailbox's events
 * (https://learn.microsoft.com/en-us/graph/change-notifications-delivery-webhooks). No signature:
 * the clientState we chose, compared in constant time with the one stored for the subscription
 * each entry names, proves the origin. A notification only says "something changed": a delta sync.
 */
export class OutlookCalendarWebhooks implements Sdk.WebhookHandler {
  /** Renew half a day before the ~2.9 days end, leaving time for retries. */
  readonly renewBefore = 12 * 3600_000;

  async verify(req: Sdk.WebhookRequest, ctx: Sdk.WebhookVerifyContext): Promise<Sdk.VerifyResult> {
    const token = req.query.validationToken;
    if (token !== undefined) {
      // Graph's handshake before it answers a create: echo the token, 200 text/plain, within 10 s.
      // No subscription is stored yet, so there is nothing else to check.
      if (!TOKEN.test(token)) return { ok: false, reason: 'bad validationToken' };
      const immediateResponse = { status: 200, contentType: 'text/plain', body: token };
      return { ok: true, deliveryId: `validation:${sha256(token)}`, immediateResponse };
    }
    const entries = batch(req.rawBody.toString('utf8'));
    if (!entries) return { ok: false, reason: 'not a notification batch' };
    for (const { subscriptionId: id, clientState } of entries) {
      const sub = typeof id === 'string' ? await ctx.findSubscription(id) : null;
      const given = typeof clientState === 'string' ? clientState : undefined;
      if (!sub || !safeEqual(given, sub.secret))
        return { ok: false, reason: 'clientState mismatch' };
    }
    const known = (e: Entry) => typeof (e.changeType ?? e.lifecycleEvent) === 'string';
    if (!entries.every(known)) return { ok: false, status: 400, reason: 'unknown notification' };
    // Graph sends no delivery id. A retry is taken to resend the same bytes (UNCONFIRMED); if it
    // does not, the batch is processed twice, which is harmless: it only asks for a delta sync.
    return { ok: true, deliveryId: `sha256:${sha256(req.rawBody)}` };
  }

  /**
   * Lifecycle events (https://learn.microsoft.com/en-us/graph/change-notifications-lifecycle-events):
   * reauthorizationRequired renews, subscriptionRemoved replaces and resyncs, missed resyncs.
   */
  async parse(delivery: Sdk.StoredWebhookDelivery, ctx: Sdk.WebhookParseContext) {
    const events = new Map<string, Sdk.WebhookEvent>();
    for (const { subscriptionId: id, lifecycleEvent: life } of batch(delivery.body) ?? []) {
      if (typeof id !== 'string') continue;
      const action = typeof life === 'string' ? ACTIONS[life] : undefined;
      const resync = life === undefined || life === 'subscriptionRemoved' || life === 'missed';
      for (const c of await ctx.findConnections({ subscriptionExternalId: id })) {
        const { connectionId } = c;
        const resourceId = c.resourceId ?? (await ctx.findSubscription(id))?.resourceId;
        if (action) {
          const attention = { connectionId, subscriptionExternalId: id, action };
          events.set(`${action}:${connectionId}:${id}`, {
            type: 'subscription-attention',
            ...attention,
          });
        }
        if (resync && resourceId) {
          events.set(`sync:${connectionId}:${resourceId}`, {
            type: 'resource-changed',
            connectionId,
            resourceId,
          });
        }
      }
    }
    return [...events.values()];
  }

  /** The lifecycle URL can only be set at creation; Graph validates both URLs before answering. */
  async subscribe(ctx: Sdk.ProviderContext, _: Sdk.SyncResource, callbackUrl: string) {
    const clientState = randomBytes(32).toString('base64url');
    const json = {
      changeType: 'created,updated,deleted',
      notificationUrl: callbackUrl,
      lifecycleNotificationUrl: callbackUrl,
      resource: 'me/events',
      expirationDateTime: expiry(),
      clientState,
    };
    const url = `${GRAPH_API}/subscriptions`;
    const made = await graph<Answer>(ctx, {
      operation: 'subscriptions.create',
      method: 'POST',
      url,
      json,
    });
    if (typeof made?.id !== 'string' || !made.id) throw failure('no_subscription_id');
    return { externalId: made.id, secret: clientState, expiresAt: expiresAt(made, json) };
  }

  /**
   * PATCH a later expiry (this also reauthorizes). One Graph no longer has (404) is replaced by a
   * new subscription; what changed meanwhile comes with the next scheduled sync.
   */
  async renew(ctx: Sdk.ProviderContext, sub: Sdk.StoredWebhookSubscription) {
    const json = { expirationDateTime: expiry() };
    try {
      const url = `${GRAPH_API}/subscriptions/${encodeURIComponent(sub.externalId)}`;
      const answer = await graph<Answer>(ctx, {
        operation: 'subscriptions.renew',
        method: 'PATCH',
        url,
        json,
      });
      return {
        externalId: sub.externalId,
        secret: sub.secret ?? undefined,
        expiresAt: expiresAt(answer, json),
      };
    } catch (error) {
      if (!isProviderError(error) || error.code !== 'NOT_FOUND') throw error;
      return this.subscribe(ctx, { id: sub.resourceId, name: sub.resourceId }, sub.callbackUrl);
    }
  }

  /** DELETE; a subscription Graph no longer has (404) is stopped already. */
  async unsubscribe(ctx: Sdk.ProviderContext, sub: Sdk.StoredWebhookSubscription): Promise<void> {
    const url = `${GRAPH_API}/subscriptions/${encodeURIComponent(sub.externalId)}`;
    await graph(ctx, { operation: 'subscriptions.delete', method: 'DELETE', url }).catch((e) => {
      if (!isProviderError(e) || e.code !== 'NOT_FOUND') throw e;
    });
  }
}

type Answer = { id?: string; expirationDateTime?: string } | undefined;
const expiry = () => new Date(Date.now() + SUBSCRIPTION_TTL_MS).toISOString();
/** Graph's answer, else what we asked for. */
const expiresAt = (answer: Answer, asked: { expirationDateTime: string }) =>
  new Date(Date.parse(answer?.expirationDateTime ?? '') || asked.expirationDateTime);
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** The entries of `{ value: [...] }` (1 to 1000 objects), or null. */
function batch(body: string): Entry[] | null {
  try {
    const value = (JSON.parse(body) as { value?: unknown } | null)?.value;
    if (!Array.isArray(value) || value.length === 0 || value.length > 1000) return null;
    return value.every((e) => typeof e === 'object' && e) ? (value as Entry[]) : null;
  } catch {
    return null;
  }
}
