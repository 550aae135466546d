import {
  isProviderError,
  pages,
  type ConnectionCredentials,
  type NormalizedItem,
  type ProviderContext,
  type SyncCursor,
  type SyncMode,
  type SyncPage,
  type SyncResource,
} from '@pdeck/integration-sdk';
import { callSlack, nextCursor, type SlackTokenKind, userToken } from './slack.http.js';
import { isSlackTs, type MessageContext, toMessageItem, tsAt } from './slack.mapper.js';
import { UserNames } from './slack.names.js';
import { settingsOf } from './slack.settings.js';
import type {
  SlackConversation,
  SlackConversationsList,
  SlackHistory,
  SlackMessage,
} from './slack.types.js';

/**
 * Where a conversation's sync stands, stored by the engine with each page. A pass reads the
 * parent messages newer than `oldest` (newest first, by cursor), then the replies of the
 * threads it met, one thread at a time; each page commits its position, so a pass paced at one
 * call a minute resumes exactly where it stopped.
 */
interface ChannelCursor {
  /** Which token reads this conversation: the user's when there is one, else the bot's. */
  via: SlackTokenKind;
  phase: 'history' | 'threads' | 'live';
  /** Full pass: the backfill window's start; incremental: the newest message already read. */
  oldest: string;
  /** The newest parent ts met so far: the next incremental pass starts after it. */
  newest?: string;
  /** The history page in progress. */
  page?: string;
  /** Thread parents whose replies are still to be read, and the replies page of the first. */
  threads?: string[];
  threadPage?: string;
  /** The pass is a full (backfill) pass: its last page says so to the engine. */
  full: boolean;
  /**
   * Display names met in this conversation, by user id, so later passes look up only new
   * people (users.info) instead of everyone again. Not secret; bounded (UserNames.known).
   */
  names?: Record<string, string>;
}

const DAY_MS = 86_400_000;
const LIST_PAGE_SIZE = 200;

/** Which conversation types the user token may list, from the scopes it was granted. */
const TYPE_SCOPES: Array<[string, string]> = [
  ['public_channel', 'channels:read'],
  ['private_channel', 'groups:read'],
  ['im', 'im:read'],
  ['mpim', 'mpim:read'],
];

/**
 * The conversations to sync: with a user token, every conversation the user is a member of, of
 * the types its scopes allow; plus the public channels the bot is in. Private channels and direct
 * messages are only ever read through the user's own membership, so no PDeck user sees a
 * conversation they are not in. Archived conversations are left out.
 *
 * With a user token, the bot's listing is a bonus: the bot token belongs to the workspace's
 * installation, and when several PDeck users installed the app there, Slack may have rotated
 * this connection's copy away (at most two live tokens per bot; UNCONFIRMED how Slack counts
 * them across installers). A refused bot listing then costs its channels, not the connection.
 */
export async function listConversations(ctx: ProviderContext): Promise<SyncResource[]> {
  const credentials = await ctx.credentials();
  const names = new UserNames(ctx, readerOf(credentials));
  const found = new Map<string, SyncResource>();
  const add = async (
    token: SlackTokenKind,
    types: string,
    keep: (c: SlackConversation) => boolean,
  ) => {
    const list = async (cursor?: string) => {
      const page = await callSlack<SlackConversationsList>(ctx, {
        method: 'conversations.list',
        token,
        params: { types, exclude_archived: true, limit: LIST_PAGE_SIZE, cursor },
      });
      return { items: page.channels ?? [], next: nextCursor(page) };
    };
    for await (const batch of pages(list)) {
      for (const c of batch) {
        if (!c.id || found.has(c.id) || !keep(c)) continue;
        found.set(c.id, { id: c.id, name: await conversationName(c, names) });
      }
    }
  };
  const types = userTypes(credentials);
  if (types.length > 0) await add('user', types.join(','), isMemberView);
  try {
    await add('bot', 'public_channel', (c) => c.is_member === true);
  } catch (error) {
    if (types.length === 0 || !botTokenRefused(error)) throw error;
  }
  return [...found.values()].sort(
    (a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id),
  );
}

/** The token that reads: the user's when the grant has one, else the bot's. */
export function readerOf(credentials: ConnectionCredentials): SlackTokenKind {
  return userToken(credentials) ? 'user' : 'bot';
}

function botTokenRefused(error: unknown): boolean {
  return isProviderError(error) && (error.code === 'AUTH_REVOKED' || error.accessTokenRejected);
}

function userTypes(credentials: ConnectionCredentials): string[] {
  if (!userToken(credentials)) return [];
  const granted = new Set((credentials.linked?.user?.scope ?? '').split(/[\s,]+/));
  return TYPE_SCOPES.filter(([, scope]) => granted.has(scope)).map(([type]) => type);
}

/** Public channels are listed whether or not one is in them; the rest only when one is. */
function isMemberView(c: SlackConversation): boolean {
  if (c.is_archived) return false;
  if (c.is_im || c.is_mpim) return true;
  return c.is_member === true || (c.is_private === true && c.is_member !== false);
}

async function conversationName(c: SlackConversation, names: UserNames): Promise<string> {
  if (c.is_im) {
    const other = c.user ? ((await names.lookUp(c.user)) ?? c.user) : 'someone';
    return `Direct messages with ${other}`;
  }
  if (c.is_mpim) return `Group messages ${c.name ?? c.id}`;
  return `#${c.name ?? c.id}`;
}

export interface PassOptions {
  /** Messages per history or replies call. */
  pageSize: number;
  now?: () => number;
}

/**
 * The pages of one conversation. A full pass reads the last `backfillDays` (a window, so it
 * sweeps nothing it did not read); an incremental pass reads what is newer than the newest
 * message read before. Edits and deletions of older messages come through the Events API.
 */
export async function* conversationPages(
  ctx: ProviderContext,
  resource: SyncResource,
  stored: SyncCursor | null,
  mode: SyncMode,
  options: PassOptions,
): AsyncIterable<SyncPage> {
  const settings = settingsOf(ctx.settings);
  const credentials = await ctx.credentials();
  let cursor = startOf(
    stored as ChannelCursor | null,
    mode,
    credentials,
    settings.backfillDays,
    options,
  );
  const names = new UserNames(ctx, readerOf(credentials), cursor.names);
  const mapping: MessageContext = {
    channelId: resource.id,
    channelName: resource.name,
    workspaceUrl: settings.workspaceUrl,
    taskEmoji: settings.taskEmoji,
    nameOf: names.nameOf,
    fromHistory: true,
  };
  for (;;) {
    let messages: SlackMessage[];
    try {
      ({ messages, cursor } = await step(ctx, resource.id, cursor, options.pageSize));
    } catch (error) {
      if (!unreadable(error)) throw error;
      if (cursor.phase === 'threads') {
        // The thread's parent was deleted meanwhile: its replies went with it.
        cursor = skipThread(cursor);
        continue;
      }
      const fallback = fallbackOf(cursor, credentials);
      if (fallback) {
        cursor = fallback;
        continue;
      }
      // Neither token may read it (left, or the bot was removed): nothing to sync, not an error.
      yield lastPage([], cursor);
      return;
    }
    await names.learn(messages);
    cursor = { ...cursor, names: names.known() };
    const upserts = messages
      .map((m) => toMessageItem(m, mapping))
      .filter((i): i is NormalizedItem => i !== null);
    if (cursor.phase === 'live') {
      yield lastPage(upserts, cursor);
      return;
    }
    yield { upserts, deletions: [], cursor: { ...cursor } };
  }
}

function startOf(
  stored: ChannelCursor | null,
  mode: SyncMode,
  credentials: ConnectionCredentials,
  backfillDays: number,
  options: PassOptions,
): ChannelCursor {
  // A pass in progress (full or incremental) resumes where its last page committed.
  if (stored && stored.phase !== 'live' && (stored.full || mode === 'incremental')) return stored;
  const via: SlackTokenKind = stored?.via ?? readerOf(credentials);
  const names = stored?.names;
  const windowStart = tsAt((options.now ?? Date.now)() - backfillDays * DAY_MS);
  if (mode === 'full' || !stored?.newest) {
    return { via, phase: 'history', oldest: windowStart, full: mode === 'full', names };
  }
  const { newest } = stored;
  return { via, phase: 'history', oldest: newest, newest, full: false, names };
}

/** One call, and the cursor after it. */
async function step(
  ctx: ProviderContext,
  channel: string,
  cursor: ChannelCursor,
  pageSize: number,
): Promise<{ messages: SlackMessage[]; cursor: ChannelCursor }> {
  if (cursor.phase === 'history') {
    const page = await callSlack<SlackHistory>(ctx, {
      method: 'conversations.history',
      token: cursor.via,
      params: { channel, oldest: cursor.oldest, limit: pageSize, cursor: cursor.page },
    });
    const messages = page.messages ?? [];
    const threads = [
      ...(cursor.threads ?? []),
      ...messages.filter(isThreadParent).map((m) => m.ts!),
    ];
    const newest = messages
      .map((m) => m.ts)
      .filter(isSlackTs)
      .reduce(later, cursor.newest);
    const next = nextCursor(page);
    const after: ChannelCursor = { ...cursor, newest, threads, page: next };
    if (!next)
      Object.assign(after, { phase: threads.length ? 'threads' : 'live', page: undefined });
    return { messages, cursor: after };
  }
  const [thread, ...rest] = cursor.threads ?? [];
  if (!thread) return { messages: [], cursor: { ...cursor, phase: 'live', threads: undefined } };
  const page = await callSlack<SlackHistory>(ctx, {
    method: 'conversations.replies',
    token: cursor.via,
    params: { channel, ts: thread, limit: pageSize, cursor: cursor.threadPage },
  });
  // The parent comes first (on the first page at least): it was read with the history already.
  const replies = (page.messages ?? []).filter((m) => m.ts !== thread);
  const next = nextCursor(page);
  const after: ChannelCursor = next
    ? { ...cursor, threadPage: next }
    : { ...cursor, threads: rest, threadPage: undefined, phase: rest.length ? 'threads' : 'live' };
  if (after.phase === 'live') after.threads = undefined;
  return { messages: replies, cursor: after };
}

function isThreadParent(m: SlackMessage): boolean {
  return isSlackTs(m.ts) && m.thread_ts === m.ts && (m.reply_count ?? 0) > 0;
}

function later(a: string | undefined, b: string): string {
  return a === undefined || Number(b) > Number(a) ? b : a;
}

/** The conversation is not readable with this token (not_in_channel, channel_not_found). */
function unreadable(error: unknown): boolean {
  return isProviderError(error) && error.code === 'NOT_FOUND';
}

/**
 * The user may read a public channel only the bot is in, or the other way round: the first
 * refusal of the user token moves the conversation to the bot token, and the pass restarts.
 */
function fallbackOf(
  cursor: ChannelCursor,
  credentials: ConnectionCredentials,
): ChannelCursor | undefined {
  if (cursor.via !== 'user' || !credentials.accessToken) return undefined;
  return {
    ...cursor,
    via: 'bot',
    phase: 'history',
    page: undefined,
    threads: undefined,
    threadPage: undefined,
  };
}

function skipThread(cursor: ChannelCursor): ChannelCursor {
  const rest = (cursor.threads ?? []).slice(1);
  return { ...cursor, threads: rest, threadPage: undefined };
}

function lastPage(upserts: NormalizedItem[], cursor: ChannelCursor): SyncPage {
  const done: ChannelCursor = {
    via: cursor.via,
    phase: 'live',
    oldest: cursor.oldest,
    newest: cursor.newest,
    full: false,
    names: cursor.names,
  };
  return cursor.full
    ? { upserts, deletions: [], cursor: { ...done }, fullPassComplete: true, keepUnseen: true }
    : { upserts, deletions: [], cursor: { ...done } };
}
