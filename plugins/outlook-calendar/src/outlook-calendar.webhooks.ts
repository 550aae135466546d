import { createHash, randomBytes } from 'node:crypto';
import { isProviderError, safeEqual } from '@pdeck/integration-sdk';
import type * as Sdk from '@pdeck/integration-sdk';
import { GRAPH_API } from './outlook-calendar.catalog.js';
import { failure, graph } from './outlook-calendar.http.js';

/** Outlook event subscriptions live at most 4230 minutes; we ask for half an hour less. */
const TTL_MS = 4200 * 60_000;
/** Validation tokens we echo as text/plain: printable ASCII, bounded (no limit documented). */
const TOKEN = /^[\x20-\x7e]{1,1024}$/;
const ACTIONS = { reauthorizationRequired: 'renew', subscriptionRemoved: 'replace' } as const;
type Life = keyof typeof ACTIONS;
type Entry = Record<'subscriptionId' | 'clientState' | 'changeType' | 'lifecycleEvent', unknown>;
type Answer = { id?: string; expirationDateTime?: string } | undefined;
type Sub = Sdk.StoredWebhookSubscription;

/**
 * Change notifications (https://learn.microsoft.com/en-us/graph/change-notifications-delivery-webhooks)
 * are unsigned: the clientState stored for the subscription each entry names, compared in constant
 * time, proves the origin. A notification asks for a delta sync.
 */
export class OutlookCalendarWebhooks implements Sdk.WebhookHandler {
  readonly renewBefore = 12 * 3600_000; // half a day before the ~2.9 days end: time for retries

  async verify(req: Sdk.WebhookRequest, ctx: Sdk.WebhookVerifyContext): Promise<Sdk.VerifyResult> {
    const token = req.query.validationToken;
    if (token !== undefined) {
      // Graph's handshake before it answers a create (nothing stored yet): 200 text/plain echo.
      if (!TOKEN.test(token)) return { ok: false, reason: 'bad validationToken' };
      const immediateResponse = { status: 200, contentType: 'text/plain', body: token };
      return { ok: true, deliveryId: `validation:${sha256(token)}`, immediateResponse };
    }
    const entries = batch(req.rawBody.toString('utf8'));
    if (!entries) return { ok: false, reason: 'not a notification batch' };
    for (const { subscriptionId: id, clientState: given } of entries) {
      const sub = typeof id === 'string' ? await ctx.findSubscription(id) : null;
      const state = typeof given === 'string' ? given : undefined;
      if (!sub || !safeEqual(state, sub.secret))
        return { ok: false, reason: 'clientState mismatch' };
    }
    const known = entries.every((e) => typeof (e.changeType ?? e.lifecycleEvent) === 'string');
    if (!known) return { ok: false, status: 400, reason: 'unknown notification' };
    // Graph sends no delivery id. A retry is taken to resend the same bytes (UNCONFIRMED); if it
    // does not, the batch is processed twice, which is harmless: it only asks for a delta sync.
    return { ok: true, deliveryId: `sha256:${sha256(req.rawBody)}` };
  }

  /** reauthorizationRequired renews, subscriptionRemoved replaces and resyncs, missed resyncs. */
  async parse(delivery: Sdk.StoredWebhookDelivery, ctx: Sdk.WebhookParseContext) {
    // https://learn.microsoft.com/en-us/graph/change-notifications-lifecycle-events
    const events = new Map<string, Sdk.WebhookEvent>();
    const add = (event: Sdk.WebhookEvent) => events.set(JSON.stringify(event), event);
    for (const entry of batch(delivery.body) ?? []) {
      const [subscriptionExternalId, life] = [entry.subscriptionId, entry.lifecycleEvent];
      if (typeof subscriptionExternalId !== 'string') continue;
      const action = Object.hasOwn(ACTIONS, String(life)) ? ACTIONS[life as Life] : null;
      const resync = life === undefined || life === 'subscriptionRemoved' || life === 'missed';
      for (const c of await ctx.findConnections({ subscriptionExternalId })) {
        const { connectionId } = c;
        const resourceId =
          c.resourceId ?? (await ctx.findSubscription(subscriptionExternalId))?.resourceId;
        if (action)
          add({ type: 'subscription-attention', connectionId, subscriptionExternalId, action });
        if (resync && resourceId) add({ type: 'resource-changed', connectionId, resourceId });
      }
    }
    return [...events.values()];
  }

  /** The lifecycle URL can only be set at creation; Graph validates both URLs before answering. */
  async subscribe(ctx: Sdk.ProviderContext, _: Sdk.SyncResource, callbackUrl: string) {
    const clientState = randomBytes(32).toString('base64url');
    const [url, expirationDateTime] = [`${GRAPH_API}/subscriptions`, expiry()];
    const json = { changeType: 'created,updated,deleted', resource: 'me/events', clientState };
    const urls = { notificationUrl: callbackUrl, lifecycleNotificationUrl: callbackUrl };
    const body = { ...json, ...urls, expirationDateTime };
    const call = { operation: 'subscriptions.create', method: 'POST', url, json: body };
    const made = await graph<Answer>(ctx, call);
    return answered(made?.id, clientState, made, expirationDateTime);
  }

  /** PATCH a later expiry (also reauthorizes); one Graph no longer has (404) is replaced. */
  async renew(ctx: Sdk.ProviderContext, sub: Sub): Promise<Sdk.NewSubscription> {
    const expirationDateTime = expiry();
    const call = { operation: 'subscriptions.renew', method: 'PATCH', url: subscriptionUrl(sub) };
    try {
      const answer = await graph<Answer>(ctx, { ...call, json: { expirationDateTime } });
      return answered(sub.externalId, sub.secret, answer, expirationDateTime);
    } catch (error) {
      if (!isProviderError(error) || error.code !== 'NOT_FOUND') throw error;
      return this.subscribe(ctx, { id: sub.resourceId, name: sub.resourceId }, sub.callbackUrl);
    }
  }

  /** DELETE; a subscription Graph no longer has (404) is stopped already. */
  async unsubscribe(ctx: Sdk.ProviderContext, sub: Sub): Promise<void> {
    const call = { operation: 'subscriptions.delete', method: 'DELETE', url: subscriptionUrl(sub) };
    await graph(ctx, call).catch((e) => {
      if (!isProviderError(e) || e.code !== 'NOT_FOUND') throw e;
    });
  }
}

const subscriptionUrl = (s: Sub) =>
  `${GRAPH_API}/subscriptions/${encodeURIComponent(s.externalId)}`;
const expiry = () => new Date(Date.now() + TTL_MS).toISOString();
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Graph's answer as a NewSubscription: its expiry, else the one we asked for. */
function answered(id: unknown, secret: string | null, answer: Answer, asked: string) {
  if (typeof id !== 'string' || !id) throw failure('no_subscription_id');
  const ms = Date.parse(answer?.expirationDateTime ?? '') || Date.parse(asked);
  return { externalId: id, secret: secret ?? undefined, expiresAt: new Date(ms) };
}

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
