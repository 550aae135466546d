import type {
  ItemDeletion,
  NormalizedItem,
  RoutedConnection,
  StoredWebhookDelivery,
  VerifyResult,
  WebhookEvent,
  WebhookHandler,
  WebhookParseContext,
  WebhookRequest,
  WebhookVerifyContext,
} from '@pdeck/integration-sdk';
import {
  isContent,
  isSlackTs,
  type MessageContext,
  messageExternalId,
  toMessageItem,
  tsVersion,
} from './slack.mapper.js';
import { settingsOf } from './slack.settings.js';
import { verifySlackSignature } from './slack.signature.js';
import type { SlackEnvelope, SlackEvent, SlackMessage, SlackReaction } from './slack.types.js';

/** Slack's ids: event ids (`Ev...`), team, channel and user ids. */
const EVENT_ID = /^Ev[A-Za-z0-9]{4,60}$/;
const SLACK_ID = /^[A-Z][A-Z0-9]{2,30}$/;
/** url_verification challenges are short tokens (echoed back, so never anything else). */
const CHALLENGE = /^[A-Za-z0-9_.-]{1,256}$/;

/**
 * The Events API (https://docs.slack.dev/apis/events-api/): one Request URL for the whole app,
 * `$PUBLIC_URL/v1/webhooks/slack`. Every request is signed with the app's signing secret; a
 * verified `url_verification` is answered with its challenge, an `event_callback` is stored once
 * per `event_id` (Slack retries after 3 s, with X-Slack-Retry-Num) and acknowledged at once.
 * Parsing routes an event to every active connection of its workspace that syncs its channel.
 */
export class SlackWebhooks implements WebhookHandler {
  readonly storedHeaders = ['x-slack-retry-num', 'x-slack-retry-reason'] as const;

  async verify(req: WebhookRequest, ctx: WebhookVerifyContext): Promise<VerifyResult> {
    const signed = verifySlackSignature({
      rawBody: req.rawBody,
      timestamp: req.headers['x-slack-request-timestamp'],
      signature: req.headers['x-slack-signature'],
      secret: ctx.appSecret,
      now: ctx.now(),
    });
    if (!signed.ok) return { ok: false, reason: signed.reason };
    // Authentic from here on: a body we cannot read is 400, never 401.
    let body: SlackEnvelope;
    try {
      body = JSON.parse(req.rawBody.toString('utf8')) as SlackEnvelope;
    } catch {
      return { ok: false, status: 400, reason: 'body is not JSON' };
    }
    if (body?.type === 'url_verification') {
      if (typeof body.challenge !== 'string' || !CHALLENGE.test(body.challenge)) {
        return { ok: false, status: 400, reason: 'unusable challenge' };
      }
      return {
        ok: true,
        deliveryId: 'url_verification',
        immediateResponse: { status: 200, body: body.challenge, contentType: 'text/plain' },
      };
    }
    if (body?.type !== 'event_callback') {
      // app_rate_limited and anything newer: acknowledged, nothing to store.
      return {
        ok: true,
        deliveryId: `${String(body?.type)}`,
        immediateResponse: { status: 200, body: '', contentType: 'text/plain' },
      };
    }
    if (typeof body.event_id !== 'string' || !EVENT_ID.test(body.event_id)) {
      return { ok: false, status: 400, reason: 'event_callback without an event_id' };
    }
    return { ok: true, deliveryId: body.event_id };
  }

  async parse(delivery: StoredWebhookDelivery, ctx: WebhookParseContext): Promise<WebhookEvent[]> {
    const body = JSON.parse(delivery.body) as SlackEnvelope;
    const event = body.event;
    const teams = teamsOf(body);
    if (!event || teams.length === 0) return [];
    switch (event.type) {
      case 'message':
        return this.message(event, teams, ctx);
      case 'reaction_added':
      case 'reaction_removed':
        return this.reaction(event, teams, ctx);
      case 'tokens_revoked':
      case 'app_uninstalled':
        return this.revoked(event, teams, ctx);
      default:
        return [];
    }
  }

  private async message(
    event: SlackEvent,
    teams: string[],
    ctx: WebhookParseContext,
  ): Promise<WebhookEvent[]> {
    const channel = event.channel;
    if (!channel || !SLACK_ID.test(channel)) return [];
    const events: WebhookEvent[] = [];
    for (const conn of await connectionsFor(teams, channel, ctx)) {
      const change = await messageChange(event, conn, ctx);
      if (change) events.push({ type: 'items', connectionId: conn.connectionId, ...change });
    }
    return events;
  }

  /**
   * Only the connection's task reaction matters: the message's stored state gets the reaction
   * and a version at the reaction's time, so it applies once and a later edit still wins. A
   * message we do not keep (outside the backfill, in a thread we do not follow) is left alone.
   */
  private async reaction(
    event: SlackEvent,
    teams: string[],
    ctx: WebhookParseContext,
  ): Promise<WebhookEvent[]> {
    const { item } = event;
    if (item?.type !== 'message' || !item.channel || !isSlackTs(item.ts)) return [];
    if (!isSlackTs(event.event_ts) || !event.reaction) return [];
    const events: WebhookEvent[] = [];
    for (const conn of await connectionsFor(teams, item.channel, ctx)) {
      const settings = settingsOf(conn.settings);
      if (event.reaction.split('::')[0] !== settings.taskEmoji) continue;
      const externalId = messageExternalId(item.channel, item.ts);
      const stored = await ctx.storedItem(conn.connectionId, 'message', externalId);
      if (!stored || stored.deleted) continue;
      const message = stored.raw as SlackMessage;
      const reactions = react(message.reactions, event);
      const upsert = toMessageItem(
        { ...message, reactions },
        mappingFor(conn, item.channel),
        maxVersion(stored.externalVersion, tsVersion(event.event_ts)),
      );
      if (upsert) {
        events.push({
          type: 'items',
          connectionId: conn.connectionId,
          upserts: [upsert],
          deletions: [],
        });
      }
    }
    return events;
  }

  /**
   * `tokens_revoked` names the users and bots whose tokens died; `app_uninstalled` kills every
   * token of the workspace (https://docs.slack.dev/reference/events/tokens_revoked). Either way
   * the connections concerned need a reinstall.
   */
  private async revoked(
    event: SlackEvent,
    teams: string[],
    ctx: WebhookParseContext,
  ): Promise<WebhookEvent[]> {
    const users = new Set(event.tokens?.oauth ?? []);
    const bots = new Set(event.tokens?.bot ?? []);
    const events: WebhookEvent[] = [];
    for (const conn of await connectionsFor(teams, undefined, ctx)) {
      const s = settingsOf(conn.settings);
      const concerned =
        event.type === 'app_uninstalled' ||
        (s.authedUserId !== null && users.has(s.authedUserId)) ||
        (s.botUserId !== null && bots.has(s.botUserId));
      if (concerned) {
        events.push({
          type: 'grant-revoked',
          connectionId: conn.connectionId,
          reason: event.type === 'app_uninstalled' ? 'app_uninstalled' : 'tokens_revoked',
        });
      }
    }
    return events;
  }
}

/** The workspace the event happened in and the installations Slack says can see it. */
function teamsOf(body: SlackEnvelope): string[] {
  const teams = [body.team_id, ...(body.authorizations ?? []).map((a) => a.team_id)];
  return [...new Set(teams.filter((t): t is string => typeof t === 'string' && SLACK_ID.test(t)))];
}

/**
 * Active connections of these workspaces (that sync `channel`, when given). The app is ours:
 * the signing secret belongs to one Slack app, so api_app_id needs no check of its own.
 */
async function connectionsFor(
  teams: string[],
  channel: string | undefined,
  ctx: WebhookParseContext,
): Promise<RoutedConnection[]> {
  const found = new Map<string, RoutedConnection>();
  for (const accountId of teams) {
    const query = channel === undefined ? { accountId } : { accountId, resourceId: channel };
    for (const conn of await ctx.findConnections(query)) found.set(conn.connectionId, conn);
  }
  return [...found.values()];
}

/**
 * A message event as item changes: a new message, an edit (`message_changed`, the new version
 * in `message`), or a deletion (`message_deleted`, versioned at the deletion's own ts and kept
 * as a tombstone even before the message was stored, so a late or replayed creation cannot bring
 * it back). Thread replies are kept only under a parent we keep.
 */
async function messageChange(
  event: SlackEvent,
  conn: RoutedConnection,
  ctx: WebhookParseContext,
): Promise<{ upserts: NormalizedItem[]; deletions: ItemDeletion[] } | null> {
  const channel = event.channel!;
  const mapping = mappingFor(conn, channel);
  if (event.subtype === 'message_deleted') {
    const at = isSlackTs(event.ts) ? event.ts : event.event_ts;
    if (!isSlackTs(event.deleted_ts) || !isSlackTs(at)) return null;
    const deletion: ItemDeletion = {
      kind: 'message',
      externalId: messageExternalId(channel, event.deleted_ts),
      externalVersion: tsVersion(at),
      tombstoneIfUnknown: true,
    };
    return { upserts: [], deletions: [deletion] };
  }
  let message: SlackMessage = event;
  if (event.subtype === 'message_changed') {
    if (!event.message || !isSlackTs(event.message.ts)) return null;
    message = event.message;
    if (message.reactions === undefined) {
      // An edit event may carry no reactions: keep the ones we know.
      const known = await ctx.storedItem(
        conn.connectionId,
        'message',
        messageExternalId(channel, message.ts!),
      );
      const reactions = (known?.raw as SlackMessage | undefined)?.reactions;
      if (reactions) message = { ...message, reactions };
    }
  } else if (!isContent(event)) {
    return null;
  }
  if (!(await keptThread(message, channel, conn, ctx))) return null;
  const upsert = toMessageItem(message, mapping);
  return upsert ? { upserts: [upsert], deletions: [] } : null;
}

/** A reply (not broadcast to the channel) belongs to us only when its parent is stored live. */
async function keptThread(
  message: SlackMessage,
  channel: string,
  conn: RoutedConnection,
  ctx: WebhookParseContext,
): Promise<boolean> {
  const parent = message.thread_ts;
  if (!isSlackTs(parent) || parent === message.ts || message.subtype === 'thread_broadcast') {
    return true;
  }
  const stored = await ctx.storedItem(
    conn.connectionId,
    'message',
    messageExternalId(channel, parent),
  );
  return stored !== null && !stored.deleted;
}

function mappingFor(conn: RoutedConnection, channel: string): MessageContext {
  const settings = settingsOf(conn.settings);
  return {
    channelId: channel,
    channelName: conn.resourceName ?? null,
    workspaceUrl: settings.workspaceUrl,
    taskEmoji: settings.taskEmoji,
    // Events carry ids, not names: mentions keep their label or id until history is read again.
    nameOf: () => undefined,
    fromHistory: false,
  };
}

/** The message's reactions with this event's reaction added or removed for its user. */
function react(reactions: SlackReaction[] | undefined, event: SlackEvent): SlackReaction[] {
  const name = event.reaction!;
  const user = event.user ?? '';
  const list = (reactions ?? []).map((r) => ({ ...r, users: [...(r.users ?? [])] }));
  let entry = list.find((r) => r.name === name);
  if (!entry) {
    entry = { name, count: 0, users: [] };
    list.push(entry);
  }
  const users = new Set(entry.users);
  if (event.type === 'reaction_added') users.add(user);
  else users.delete(user);
  entry.users = [...users];
  entry.count = users.size;
  return list.filter((r) => (r.count ?? 0) > 0);
}

function maxVersion(a: string, b: string): string {
  return a > b ? a : b;
}
