import { commaList, flag, missingScope } from './api-args.js';
import { decodeCursor, encodeCursor, pageById, pageLimit } from './cursors.js';
import type { ConversationKind, ConversationRec, MessageRec, SlackData } from './slack-data.js';
import { tsToMicros } from './slack-ts.js';
import type { Grant } from './tokens.js';
import { conversationView, messageView } from './views.js';

type Body = Record<string, unknown>;

const LIST_SCOPE: Record<ConversationKind, string> = {
  public_channel: 'channels:read',
  private_channel: 'groups:read',
  mpim: 'mpim:read',
  im: 'im:read',
};
const HISTORY_SCOPE: Record<ConversationKind, string> = {
  public_channel: 'channels:history',
  private_channel: 'groups:history',
  mpim: 'mpim:history',
  im: 'im:history',
};
const fail = (error: string): Body => ({ ok: false, error });

/**
 * conversations.list (https://docs.slack.dev/reference/methods/conversations.list): every public
 * channel of the workspace with `is_member` for the caller, and the private channels, mpims and
 * ims the caller is in; each requested type needs its `:read` scope.
 */
export function listConversations(
  data: SlackData,
  grant: Grant,
  args: Record<string, string>,
): Body {
  const types = commaList(args.types || 'public_channel');
  const unknown = types.find((t) => !(t in LIST_SCOPE));
  if (unknown) return fail('invalid_types');
  const kinds = types as ConversationKind[];
  const lacking = kinds.find((k) => !grant.scopes.includes(LIST_SCOPE[k]));
  if (lacking) return missingScope(LIST_SCOPE[lacking], grant.scopes);
  const all = data.conversations.filter(
    (c) =>
      c.teamId === grant.teamId &&
      kinds.includes(c.kind) &&
      (c.kind === 'public_channel' || c.members.includes(grant.userId)) &&
      !(flag(args.exclude_archived) && c.isArchived),
  );
  const page = pageById(all, 'team', args.cursor, pageLimit(args.limit, 100, 999));
  if ('error' in page) return fail(page.error);
  return {
    ok: true,
    channels: page.items.map((c) => conversationView(c, grant.userId)),
    response_metadata: { next_cursor: page.nextCursor },
  };
}

/** The conversation this grant may read, the time range and the page size of a history call. */
function readable(
  data: SlackData,
  grant: Grant,
  args: Record<string, string>,
  size: { byDefault: number; max: number },
):
  | { conv: ConversationRec; range: { within: (us: number) => boolean }; limit: number }
  | { error: Body } {
  const open = openConversation(data, grant, args.channel);
  if ('error' in open) return { error: open.error };
  const range = timeRange(args);
  if ('error' in range) return { error: fail(range.error) };
  return { conv: open.conv, range, limit: pageLimit(args.limit, size.byDefault, size.max) };
}

/**
 * conversations.history (https://docs.slack.dev/reference/methods/conversations.history):
 * parent and unthreaded messages plus thread broadcasts, newest first, within `oldest`/`latest`
 * (exclusive unless `inclusive`), paged by `next_ts` cursors.
 */
export function history(
  data: SlackData,
  grant: Grant,
  args: Record<string, string>,
  size: { byDefault: number; max: number },
): Body {
  const read = readable(data, grant, args, size);
  if ('error' in read) return read.error;
  const { conv, range, limit } = read;
  let list = data
    .messages(conv.id)
    .filter((m) => range.within(micros(m)))
    .reverse();
  if (args.cursor) {
    const at = cursorMicros(args.cursor);
    if (at === undefined) return fail('invalid_cursor');
    list = list.filter((m) => micros(m) <= at);
  }
  return page(data, list.slice(0, limit), list[limit]);
}

/**
 * conversations.replies (https://docs.slack.dev/reference/methods/conversations.replies): the
 * parent, then its replies ascending. `ts` may name the parent or any reply. The parent opens the
 * first page only and is never filtered by `oldest`/`latest` (UNCONFIRMED: observed behaviour
 * reported by SDK users, not documented).
 */
export function replies(
  data: SlackData,
  grant: Grant,
  args: Record<string, string>,
  size: { byDefault: number; max: number },
): Body {
  const read = readable(data, grant, args, size);
  if ('error' in read) return read.error;
  const { conv, range, limit } = read;
  let root = data.message(conv.id, args.ts ?? '');
  if (root?.threadTs) root = data.message(conv.id, root.threadTs);
  if (!root) return fail('thread_not_found');
  const thread = data.replies(conv.id, root.ts).filter((m) => range.within(micros(m)));
  if (!args.cursor) return page(data, [root, ...thread.slice(0, limit - 1)], thread[limit - 1]);
  const at = cursorMicros(args.cursor);
  if (at === undefined) return fail('invalid_cursor');
  const rest = thread.filter((m) => micros(m) >= at);
  return page(data, rest.slice(0, limit), rest[limit]);
}

/**
 * Who may read a conversation's messages: unknown ids, and private conversations the caller is
 * not in, are `channel_not_found`; a public channel is readable by a user token without
 * membership but answers `not_in_channel` to a bot outside it.
 */
function openConversation(
  data: SlackData,
  grant: Grant,
  channel: string | undefined,
): { conv: ConversationRec } | { error: Body } {
  const conv = channel ? data.conversation(channel) : undefined;
  if (!conv || conv.teamId !== grant.teamId) return { error: fail('channel_not_found') };
  const member = conv.members.includes(grant.userId);
  if (!member && conv.kind !== 'public_channel') return { error: fail('channel_not_found') };
  const needed = HISTORY_SCOPE[conv.kind];
  if (!grant.scopes.includes(needed)) return { error: missingScope(needed, grant.scopes) };
  if (!member && grant.kind === 'bot') return { error: fail('not_in_channel') };
  return { conv };
}

function timeRange(
  args: Record<string, string>,
): { within: (us: number) => boolean } | { error: string } {
  const oldest = args.oldest ? tsToMicros(args.oldest) : 0;
  if (oldest === undefined) return { error: 'invalid_ts_oldest' };
  const latest = args.latest ? tsToMicros(args.latest) : Infinity;
  if (latest === undefined) return { error: 'invalid_ts_latest' };
  const inclusive = flag(args.inclusive);
  return {
    within: (us) =>
      (inclusive ? us >= oldest : us > oldest) && (inclusive ? us <= latest : us < latest),
  };
}

function page(data: SlackData, items: MessageRec[], next: MessageRec | undefined): Body {
  return {
    ok: true,
    messages: items.map((m) => messageView(data, m)),
    has_more: next !== undefined,
    response_metadata: { next_cursor: next ? encodeCursor('next_ts', String(micros(next))) : '' },
  };
}

function cursorMicros(cursor: string): number | undefined {
  const pos = decodeCursor(cursor, 'next_ts');
  return pos && /^\d{1,18}$/.test(pos) ? Number(pos) : undefined;
}

function micros(m: MessageRec): number {
  return tsToMicros(m.ts)!;
}
