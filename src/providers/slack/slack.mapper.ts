import { normalizedItem, type NormalizedItem } from '@pdeck/integration-sdk';
import { mrkdwnToText, type NameOf, titleOf } from './slack.mrkdwn.js';
import type { SlackMessage, SlackReaction } from './slack.types.js';

/** The label a message carries while it has the connection's task reaction. */
export const TASK_CANDIDATE_LABEL = 'task-candidate';

/** `1355517523.000005`: seconds and a 6-digit sequence, unique per channel. */
const TS = /^\d{1,10}\.\d{6}$/;

/**
 * Message subtypes that are someone's message; the rest (joins, topic changes, pins...) are
 * channel events, not content (https://docs.slack.dev/reference/events/message).
 */
const CONTENT_SUBTYPES = new Set(['bot_message', 'thread_broadcast', 'file_share', 'me_message']);

/** What mapping needs besides the message: where it is and how the connection reads it. */
export interface MessageContext {
  channelId: string;
  channelName: string | null;
  /** `https://<workspace>.slack.com/` from auth.test, for permalinks; null when unknown. */
  workspaceUrl: string | null;
  /** The reaction name (without colons) that marks a message as a task candidate. */
  taskEmoji: string;
  nameOf: NameOf;
  /**
   * Read from history with names resolved (a sync), not from an event (ids only): such a copy
   * sorts after the event's copy of the same message version, so the next read replaces
   * `@U0123` with the name once, and an event replayed later cannot undo it.
   */
  fromHistory: boolean;
}

/** Appended to a version read from history (see MessageContext.fromHistory). */
export const HISTORY_VERSION_SUFFIX = 'h';

export function isSlackTs(value: unknown): value is string {
  return typeof value === 'string' && TS.test(value);
}

/** Unique within a connection: a ts is unique only within its channel. */
export function messageExternalId(channelId: string, ts: string): string {
  return `${channelId}:${ts}`;
}

/** A ts as a fixed-width version (text comparison orders it like time). */
export function tsVersion(ts: string): string {
  return ts.padStart(17, '0');
}

export function isContent(message: SlackMessage): boolean {
  return message.subtype === undefined || CONTENT_SUBTYPES.has(message.subtype);
}

/** Whether the message has the reaction (skin-tone variants count as the same reaction). */
export function hasReaction(reactions: SlackReaction[] | undefined, emoji: string): boolean {
  return (reactions ?? []).some(
    (r) => r.name?.split('::')[0] === emoji && (r.count ?? r.users?.length ?? 0) > 0,
  );
}

/**
 * A Slack message as a `message` item, or null for channel events and malformed messages.
 * Version: the edit's ts, else the message's; `versionFloor` raises it for changes Slack gives
 * no version of (a reaction, at the reaction event's ts), so they apply once and never regress.
 */
export function toMessageItem(
  message: SlackMessage,
  ctx: MessageContext,
  versionFloor?: string,
): NormalizedItem | null {
  const { ts } = message;
  if (!isSlackTs(ts) || !isContent(message)) return null;
  const changedAt = isSlackTs(message.edited?.ts) ? message.edited.ts : ts;
  const own = tsVersion(changedAt) + (ctx.fromHistory ? HISTORY_VERSION_SUFFIX : '');
  const text = mrkdwnToText(message.text ?? '', ctx.nameOf);
  const fileName = message.files?.map((f) => f.title || f.name).find(Boolean);
  return normalizedItem({
    kind: 'message',
    externalId: messageExternalId(ctx.channelId, ts),
    externalVersion: versionFloor && versionFloor > own ? versionFloor : own,
    containerId: ctx.channelId,
    containerName: ctx.channelName,
    title: titleOf(text) ?? fileName ?? null,
    body: text === '' ? null : text,
    url: permalink(ctx.workspaceUrl, ctx.channelId, ts, message.thread_ts),
    author: authorOf(message, ctx.nameOf),
    labels: hasReaction(message.reactions, ctx.taskEmoji) ? [TASK_CANDIDATE_LABEL] : [],
    externalUpdatedAt: tsDate(changedAt),
    raw: { ...message, channel: ctx.channelId },
  });
}

/**
 * `https://<workspace>.slack.com/archives/<channel>/p<ts without the dot>`, with
 * `?thread_ts=&cid=` for a reply: the form chat.getPermalink answers
 * (https://docs.slack.dev/reference/methods/chat.getPermalink). Composed instead of asked for,
 * since that method would share the workspace's budget with history reads. UNCONFIRMED as a
 * stable contract: a wrong link still opens the workspace, nothing else depends on it.
 */
export function permalink(
  workspaceUrl: string | null,
  channelId: string,
  ts: string,
  threadTs?: string,
): string | null {
  if (!workspaceUrl) return null;
  const base = `${workspaceUrl.replace(/\/+$/, '')}/archives/${channelId}/p${ts.replace('.', '')}`;
  return isSlackTs(threadTs) && threadTs !== ts
    ? `${base}?thread_ts=${threadTs}&cid=${channelId}`
    : base;
}

/** The author's name as known, else what the message carries, else the user or bot id. */
function authorOf(message: SlackMessage, nameOf: NameOf): string | null {
  const profile = message.user_profile;
  return (
    (message.user ? nameOf(message.user) : undefined) ||
    profile?.display_name ||
    profile?.real_name ||
    message.username ||
    message.bot_profile?.name ||
    message.user ||
    message.bot_id ||
    null
  );
}

export function tsDate(ts: string): Date {
  return new Date(Math.floor(Number(ts) * 1000));
}

/** A ts for an instant (oldest bound of a backfill window). */
export function tsAt(ms: number): string {
  return `${Math.floor(ms / 1000)}.000000`;
}
