import {
  type OAuth2Fake,
  type PageCache,
  empty,
  json,
  type Reply,
  type RequestContext,
  type SandboxServer,
} from '@pdeck/integration-sdk/sandbox';
import { authorizeCall, isReply, SCOPES } from './api-auth.js';
import type { CalendarDirectory } from './calendar-directory.js';
import type { ChannelRegistry } from './channels.js';
import { findInstance } from './event-view.js';
import { listEvents } from './events-list.js';
import { googleError, errors } from './google-errors.js';

export interface EventRoutesOptions {
  /** Serialized events.list pages kept for repeated listings (benchmarks); absent: off. */
  pageCache?: PageCache;
}

export interface ChannelPolicy {
  /** Lifetime when the watch request sets none (Google's default is not documented; 7 days). */
  defaultTtlMs: number;
  /** Google applies "the more restrictive of your value and its internal limit". */
  maxTtlMs: number;
  /** Google requires HTTPS; the sandbox accepts http:// so loopback receivers work. */
  requireHttps: boolean;
  now: () => number;
}

/** events.list, events.get, events.watch and channels.stop. */
export function mountEventRoutes(
  server: SandboxServer,
  oauth: OAuth2Fake,
  directory: CalendarDirectory,
  channels: ChannelRegistry,
  policy: ChannelPolicy,
  options: EventRoutesOptions = {},
): void {
  server.route('GET', '/calendar/v3/calendars/:calendarId/events', (ctx) => {
    const auth = authorizeCall(oauth, ctx, SCOPES.events);
    if (isReply(auth)) return auth;
    const found = directory.resolve(auth.account, ctx.params.calendarId);
    return found
      ? listEvents(found.calendar, found.entry, ctx.query, options.pageCache)
      : errors.notFound();
  });
  server.route('POST', '/calendar/v3/calendars/:calendarId/events/watch', (ctx) => {
    const auth = authorizeCall(oauth, ctx, SCOPES.events);
    if (isReply(auth)) return auth;
    return watch(ctx, auth.account, auth.clientId, directory, channels, policy);
  });
  server.route('GET', '/calendar/v3/calendars/:calendarId/events/:eventId', (ctx) => {
    const auth = authorizeCall(oauth, ctx, SCOPES.events);
    if (isReply(auth)) return auth;
    const found = directory.resolve(auth.account, ctx.params.calendarId);
    if (!found) return errors.notFound();
    const { store, id, timeZone } = found.calendar;
    // events.get returns cancelled events too (only list hides them).
    const event =
      store.get(ctx.params.eventId) ??
      findInstance(ctx.params.eventId, (m) => store.get(m), id, timeZone);
    return event ? json(200, event) : errors.notFound();
  });
  server.route('POST', '/calendar/v3/channels/stop', (ctx) => {
    const auth = authorizeCall(oauth, ctx, [...SCOPES.events, ...SCOPES.calendarList]);
    if (isReply(auth)) return auth;
    const body = (ctx.body ?? {}) as Record<string, unknown>;
    const id = String(body.id ?? '');
    if (!channels.stop(id, String(body.resourceId ?? ''), auth.clientId)) {
      return googleError(404, 'notFound', `Channel '${id}' not found for project 'sandbox'`);
    }
    return empty(204);
  });
}

const CHANNEL_ID = /^[A-Za-z0-9\-_+/=]{1,64}$/;

function watch(
  ctx: RequestContext,
  account: string,
  clientId: string,
  directory: CalendarDirectory,
  channels: ChannelRegistry,
  policy: ChannelPolicy,
): Reply {
  const found = directory.resolve(account, ctx.params.calendarId);
  if (!found) return errors.notFound();
  if (ctx.bodyError || typeof ctx.body !== 'object' || ctx.body === null) {
    return googleError(400, 'parseError', 'Parse Error');
  }
  const body = ctx.body as Record<string, unknown>;
  const id = body.id;
  if (typeof id !== 'string' || !CHANNEL_ID.test(id))
    return errors.invalidParam('Invalid channel id.', 'id');
  if (body.type !== 'web_hook' && body.type !== 'webhook') {
    return errors.invalidParam(`Unknown channel type: ${String(body.type)}`, 'type');
  }
  const address = typeof body.address === 'string' ? body.address : '';
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return googleError(400, 'required', 'Required', {
      location: 'address',
      locationType: 'parameter',
    });
  }
  if (policy.requireHttps && url.protocol !== 'https:') {
    return googleError(
      400,
      'push.webhookUrlNotHttps',
      `WebHook callback must be HTTPS: ${address}`,
    );
  }
  if (body.token !== undefined && (typeof body.token !== 'string' || body.token.length > 256)) {
    return errors.invalidParam(
      'Channel token must be a string of at most 256 characters.',
      'token',
    );
  }
  if (channels.has(id))
    return googleError(400, 'channelIdNotUnique', `Channel id ${id} not unique`);
  const expiration = expirationFor(body, policy);
  if (typeof expiration !== 'number') return expiration;
  const resourceUri = `https://www.googleapis.com/calendar/v3/calendars/${encodeURIComponent(ctx.params.calendarId)}/events`;
  const channel = channels.open({
    id,
    resourceId: found.calendar.resourceId,
    resourceUri,
    token: body.token as string | undefined,
    address,
    expiration,
    calendarId: found.calendar.id,
    account,
    clientId,
  });
  // int64 fields travel as JSON strings in Google APIs, so `expiration` is "1426325213000".
  const response: Record<string, unknown> = {
    kind: 'api#channel',
    id: channel.id,
    resourceId: channel.resourceId,
    resourceUri: channel.resourceUri,
  };
  if (channel.token !== undefined) response.token = channel.token;
  response.expiration = String(channel.expiration);
  return json(200, response);
}

/** `expiration` (Unix ms) or `params.ttl` (seconds), capped at the policy's maximum. */
function expirationFor(body: Record<string, unknown>, policy: ChannelPolicy): number | Reply {
  const now = policy.now();
  const ttl = (body.params as Record<string, unknown> | undefined)?.ttl;
  let requested = now + policy.defaultTtlMs;
  if (body.expiration !== undefined) requested = Number(body.expiration);
  else if (ttl !== undefined) requested = now + Number(ttl) * 1000;
  if (!Number.isFinite(requested)) return errors.invalidParam('Invalid expiration.', 'expiration');
  if (requested <= now)
    return errors.invalidParam('Channel expiration must be in the future.', 'expiration');
  return Math.min(requested, now + policy.maxTtlMs);
}
