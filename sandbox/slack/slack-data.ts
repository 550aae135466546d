import { SandboxNotFoundError } from '@pdeck/integration-sdk/sandbox';
import { microsToTs, tsToMicros } from './slack-ts.js';
import { SlackTokens, type SlackTokensOptions, type TokenInfo } from './tokens.js';

export interface WorkspaceRec {
  id: string;
  name: string;
  /** `<domain>.slack.com`. */
  domain: string;
  /** Set for an Enterprise Grid workspace. */
  enterprise: { id: string; name: string } | null;
}

export interface UserRec {
  id: string;
  teamId: string;
  /** The handle (`alice`): Slack's `name`, what auth.test answers as `user`. */
  name: string;
  realName: string;
  displayName: string;
  isBot: boolean;
  /** Bot users: their `B...` id and the app they belong to. */
  botId?: string;
  appId?: string;
  /** Deactivated: its user tokens answer `account_inactive`. */
  deleted: boolean;
}

export type ConversationKind = 'public_channel' | 'private_channel' | 'mpim' | 'im';

export interface ConversationRec {
  id: string;
  teamId: string;
  kind: ConversationKind;
  /** Empty for ims. */
  name: string;
  /** Unix seconds. */
  created: number;
  creator: string;
  topic: string;
  purpose: string;
  isArchived: boolean;
  members: string[];
}

export interface ReactionRec {
  name: string;
  users: string[];
}

export interface MessageRec {
  channel: string;
  ts: string;
  /** Absent for a `bot_message` (it has `botId` instead). */
  user?: string;
  botId?: string;
  /** `bot_message`, or `thread_broadcast` for a reply also shown in the channel. */
  subtype?: 'bot_message' | 'thread_broadcast';
  text: string;
  /** Replies only: the parent's ts. A parent is a message that has replies. */
  threadTs?: string;
  edited?: { user: string; ts: string };
  reactions: ReactionRec[];
}

export interface MessageInput {
  user?: string;
  botId?: string;
  subtype?: MessageRec['subtype'];
  text: string;
  threadTs?: string;
  /** Seed only: a fixed ts; otherwise the channel's next ts from the clock. */
  ts?: string;
}

/**
 * Workspaces, users, conversations and messages of the fake, plus its token store. Messages are
 * kept per conversation in ascending ts order; every ts the fake generates comes from the clock
 * and is strictly increasing per conversation.
 */
export class SlackData {
  readonly workspaces: WorkspaceRec[] = [];
  readonly users: UserRec[] = [];
  readonly conversations: ConversationRec[] = [];
  readonly tokens: SlackTokens;
  private readonly byChannel = new Map<string, MessageRec[]>();
  /** Last generated ts per conversation (`''`: events outside a conversation), in microseconds. */
  private readonly lastTs = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    tokenOptions: SlackTokensOptions,
  ) {
    this.tokens = new SlackTokens(now, tokenOptions);
  }

  workspace(id: string): WorkspaceRec {
    const w = this.workspaces.find((x) => x.id === id);
    if (!w) throw new SandboxNotFoundError(`unknown workspace ${id}`);
    return w;
  }

  /** By id or handle. */
  user(idOrName: string): UserRec {
    const u = this.users.find((x) => x.id === idOrName || x.name === idOrName);
    if (!u) throw new SandboxNotFoundError(`unknown user ${idOrName}`);
    return u;
  }

  conversation(id: string): ConversationRec | undefined {
    return this.conversations.find((c) => c.id === id);
  }

  isMember(channel: string, userId: string): boolean {
    return this.conversation(channel)?.members.includes(userId) ?? false;
  }

  addConversation(rec: ConversationRec): ConversationRec {
    this.conversations.push(rec);
    this.byChannel.set(rec.id, []);
    return rec;
  }

  /**
   * The bot user of `appId` in `teamId`. An app other than the seeded one gets its bot user on
   * first install, in the same conversations as the workspace's first bot, so tests of a second
   * app (say without token rotation) read the same channels.
   */
  botUser(appId: string, teamId: string): UserRec {
    const existing = this.users.find((u) => u.isBot && u.appId === appId && u.teamId === teamId);
    if (existing) return existing;
    const suffix = appId.replace(/^A/, '');
    const bot: UserRec = {
      id: `U${suffix}`,
      teamId,
      name: suffix.toLowerCase(),
      realName: suffix,
      displayName: '',
      isBot: true,
      botId: `B${suffix}`,
      appId,
      deleted: false,
    };
    const template = this.users.find((u) => u.isBot && u.teamId === teamId);
    this.users.push(bot);
    for (const c of this.conversations)
      if (template && c.members.includes(template.id)) c.members.push(bot.id);
    return bot;
  }

  /**
   * Live messages of a conversation, ascending by ts: what `conversations.history` can show
   * (parents, unthreaded messages and thread broadcasts) or, with `includeReplies`, every message.
   */
  messages(channel: string, opts: { includeReplies?: boolean } = {}): MessageRec[] {
    const all = this.byChannel.get(channel) ?? [];
    return opts.includeReplies
      ? [...all]
      : all.filter((m) => !m.threadTs || m.subtype === 'thread_broadcast');
  }

  message(channel: string, ts: string): MessageRec | undefined {
    return this.byChannel.get(channel)?.find((m) => m.ts === ts);
  }

  /** Replies of the thread whose parent has `ts`, ascending. */
  replies(channel: string, ts: string): MessageRec[] {
    return (this.byChannel.get(channel) ?? []).filter((m) => m.threadTs === ts);
  }

  /** The next ts of a conversation: the clock, or 1 µs after the last one when the clock lags. */
  nextTs(channel: string): string {
    const micros = Math.max(this.now() * 1000, (this.lastTs.get(channel) ?? 0) + 1);
    this.lastTs.set(channel, micros);
    return microsToTs(micros);
  }

  post(channel: string, input: MessageInput): MessageRec {
    const list = this.byChannel.get(channel);
    if (!list) throw new SandboxNotFoundError(`unknown conversation ${channel}`);
    if (input.threadTs && !this.message(channel, input.threadTs))
      throw new SandboxNotFoundError(`no message ${input.threadTs} in ${channel}`);
    const ts = input.ts ?? this.nextTs(channel);
    const micros = tsToMicros(ts)!;
    this.lastTs.set(channel, Math.max(this.lastTs.get(channel) ?? 0, micros));
    const rec: MessageRec = {
      channel,
      ts,
      ...(input.user ? { user: input.user } : {}),
      ...(input.botId ? { botId: input.botId } : {}),
      ...(input.subtype ? { subtype: input.subtype } : {}),
      text: input.text,
      ...(input.threadTs ? { threadTs: input.threadTs } : {}),
      reactions: [],
    };
    const at = list.findIndex((m) => tsToMicros(m.ts)! > micros);
    list.splice(at < 0 ? list.length : at, 0, rec);
    return rec;
  }

  /** Changes the text; `edited` gets the editing user and a fresh ts (also returned). */
  edit(
    channel: string,
    ts: string,
    text: string,
    editTs?: string,
  ): { message: MessageRec; previous: MessageRec } {
    const message = this.requireMessage(channel, ts);
    const previous = structuredClone(message);
    message.text = text;
    message.edited = {
      user: message.user ?? message.botId ?? '',
      ts: editTs ?? this.nextTs(channel),
    };
    return { message, previous };
  }

  remove(channel: string, ts: string): MessageRec {
    const message = this.requireMessage(channel, ts);
    const list = this.byChannel.get(channel)!;
    list.splice(list.indexOf(message), 1);
    return message;
  }

  /** Adds or removes `user`'s reaction; false when there was nothing to change. */
  react(channel: string, ts: string, name: string, user: string, add: boolean): boolean {
    const message = this.requireMessage(channel, ts);
    let reaction = message.reactions.find((r) => r.name === name);
    if (add) {
      if (reaction?.users.includes(user)) return false;
      if (!reaction) message.reactions.push((reaction = { name, users: [] }));
      reaction.users.push(user);
      return true;
    }
    if (!reaction?.users.includes(user)) return false;
    reaction.users.splice(reaction.users.indexOf(user), 1);
    if (!reaction.users.length) message.reactions.splice(message.reactions.indexOf(reaction), 1);
    return true;
  }

  deactivate(userId: string): UserRec {
    const user = this.user(userId);
    user.deleted = true;
    return user;
  }

  tokenInfo(token: string): TokenInfo | undefined {
    return this.tokens.info(token);
  }

  private requireMessage(channel: string, ts: string): MessageRec {
    const m = this.message(channel, ts);
    if (!m) throw new SandboxNotFoundError(`no message ${ts} in ${channel}`);
    return m;
  }
}
