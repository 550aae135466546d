import { randomBytes, randomUUID } from 'node:crypto';
import {
  type ProviderContext,
  type SyncResource,
  type NewSubscription,
  type StoredWebhookDelivery,
  type StoredWebhookSubscription,
  type VerifyResult,
  type WebhookEvent,
  type WebhookHandler,
  type WebhookParseContext,
  type WebhookRequest,
  type WebhookVerifyContext,
  isProviderError,
  safeEqual,
  providerFailure,
} from '@pdeck/integration-sdk';
import { GOOGLE_CALENDAR_ID } from './google-calendar.catalog.js';
import { callGoogle, segment } from './google-calendar.http.js';
import type { GoogleChannel } from './google-calendar.types.js';

/**
 * Requested channel lifetime. Google applies the more restrictive of this and its own limit,
 * which is not documented for events.watch (UNCONFIRMED); 7 days is what other open-source
 * integrations request. The stored expiry is the one Google answers with, so renewal follows the
 * real lifetime.
 */
export const CHANNEL_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** Replace a channel one day before it ends: around day 6 of 7, leaving a day for retries. */
export const RENEW_BEFORE_MS = 24 * 60 * 60 * 1000;

const H = {
  channelId: 'x-goog-channel-id',
  token: 'x-goog-channel-token',
  resourceId: 'x-goog-resource-id',
  state: 'x-goog-resource-state',
  messageNumber: 'x-goog-message-number',
} as const;

/** Google's error reason for events.watch on a calendar that has no push notifications. */
const PUSH_NOT_SUPPORTED = 'pushNotSupportedForRequestedResource';

/** The acknowledgement for messages that carry no change (`sync`, unknown states). */
const ACK = { status: 200 } as const;

/**
 * Google push for calendar events: one channel per calendar (events.watch). Notifications have
 * no body and no signature; the channel token we chose, compared in constant time, plus the
 * channel and resource ids we stored, are the only proof of origin
 * (https://developers.google.com/workspace/calendar/api/guides/push). A notification only says
 * "something in this calendar changed", so it becomes an incremental sync request.
 */
export class GoogleCalendarWebhooks implements WebhookHandler {
  readonly storedHeaders = [H.channelId, H.resourceId, H.state, H.messageNumber] as const;
  readonly renewBefore = RENEW_BEFORE_MS;

  async verify(req: WebhookRequest, ctx: WebhookVerifyContext): Promise<VerifyResult> {
    const channelId = req.headers[H.channelId];
    const state = req.headers[H.state];
    const messageNumber = req.headers[H.messageNumber];
    if (!channelId) return { ok: false, reason: 'no X-Goog-Channel-ID' };
    const sub = await ctx.findSubscription(channelId);
    if (!sub) {
      // `sync` can arrive before the watch response, i.e. before the channel is stored
      // (Google's push guide, above): acknowledge it; it would change nothing anyway.
      if (state === 'sync') {
        return { ok: true, deliveryId: `${channelId}:sync`, immediateResponse: ACK };
      }
      return { ok: false, status: 404, reason: 'unknown channel' };
    }
    if (!safeEqual(req.headers[H.token], sub.secret)) {
      return { ok: false, reason: 'channel token mismatch' };
    }
    if (!sub.externalResourceId || req.headers[H.resourceId] !== sub.externalResourceId) {
      return { ok: false, reason: 'resource id mismatch' };
    }
    if (state !== 'exists' && state !== 'not_exists') {
      // `sync` (channel created) and any state we do not know: nothing changed that we can act on.
      return { ok: true, deliveryId: `${channelId}:${state ?? 'none'}`, immediateResponse: ACK };
    }
    if (!messageNumber || !/^\d{1,20}$/.test(messageNumber)) {
      return { ok: false, status: 400, reason: 'no X-Goog-Message-Number' };
    }
    // Google retries a message with the same number: the engine's dedupe key.
    return { ok: true, deliveryId: `${channelId}:${messageNumber}` };
  }

  async parse(delivery: StoredWebhookDelivery, ctx: WebhookParseContext): Promise<WebhookEvent[]> {
    const channelId = delivery.headers[H.channelId];
    const state = delivery.headers[H.state];
    if (!channelId || (state !== 'exists' && state !== 'not_exists')) return [];
    const connections = await ctx.findConnections({ subscriptionExternalId: channelId });
    const events: WebhookEvent[] = [];
    for (const c of connections) {
      const resourceId = c.resourceId ?? (await ctx.findSubscription(channelId))?.resourceId;
      if (resourceId) {
        events.push({ type: 'resource-changed', connectionId: c.connectionId, resourceId });
      }
    }
    return events;
  }

  /**
   * events.watch on one calendar. Also the renewal: Google channels cannot be extended. Null for a
   * calendar Google does not push for (400 `pushNotSupportedForRequestedResource`: holiday,
   * birthday and other generated calendars): scheduled syncs keep it current, and asking again at
   * every round would only repeat the refusal. Any other failure is thrown for the engine to
   * record against this calendar alone.
   */
  async subscribe(
    ctx: ProviderContext,
    resource: SyncResource,
    callbackUrl: string,
  ): Promise<NewSubscription | null> {
    const id = randomUUID();
    // 32 random bytes (43 characters, within the 256 allowed): the channel's shared secret.
    const token = randomBytes(32).toString('base64url');
    const requested = Date.now() + CHANNEL_TTL_MS;
    let channel: GoogleChannel;
    try {
      channel = await callGoogle<GoogleChannel>(ctx, {
        operation: 'events.watch',
        method: 'POST',
        path: `/calendars/${segment(resource.id)}/events/watch`,
        json: { id, type: 'web_hook', address: callbackUrl, token, expiration: requested },
      });
    } catch (error) {
      if (isProviderError(error) && error.detail === PUSH_NOT_SUPPORTED) return null;
      throw error;
    }
    if (typeof channel?.resourceId !== 'string' || !channel.resourceId) {
      // Without it no notification verifies and the channel cannot be stopped.
      throw providerFailure(
        GOOGLE_CALENDAR_ID,
        'UNKNOWN',
        'watch answer has no resourceId',
        'no_resource_id',
      );
    }
    const expiration = Number(channel.expiration);
    return {
      // Ours, not the echo: X-Goog-Channel-ID and X-Goog-Channel-Token carry what we sent.
      externalId: id,
      externalResourceId: channel.resourceId,
      secret: token,
      // Google never grants more than asked, so the request is an upper bound when it is silent.
      expiresAt: new Date(Number.isFinite(expiration) && expiration > 0 ? expiration : requested),
    };
  }

  /** channels.stop; only the user and OAuth client that created a channel may stop it. */
  async unsubscribe(ctx: ProviderContext, sub: StoredWebhookSubscription): Promise<void> {
    if (!sub.externalResourceId) return; // never stored a resourceId: nothing Google would accept
    await callGoogle<void>(ctx, {
      operation: 'channels.stop',
      method: 'POST',
      path: '/channels/stop',
      json: { id: sub.externalId, resourceId: sub.externalResourceId },
      expect: 'none',
    });
  }
}
