import type {
  ConversationKind,
  ConversationRec,
  MessageRec,
  SlackData,
  UserRec,
} from './slack-data.js';

/** `channel_type` of message events (https://docs.slack.dev/reference/events/message). */
export function channelType(kind: ConversationKind): 'channel' | 'group' | 'im' | 'mpim' {
  return kind === 'public_channel' ? 'channel' : kind === 'private_channel' ? 'group' : kind;
}

/**
 * A message as conversations.history/replies and message events show it
 * (https://docs.slack.dev/reference/events/message): thread parents carry `thread_ts`,
 * `reply_count`, `reply_users`, `latest_reply`; replies `thread_ts` and `parent_user_id`.
 */
export function messageView(data: SlackData, m: MessageRec): Record<string, unknown> {
  const out: Record<string, unknown> = { type: 'message' };
  if (m.subtype) out.subtype = m.subtype;
  if (m.user) out.user = m.user;
  if (m.botId) {
    out.bot_id = m.botId;
    // An app's messages carry the bot's profile, whose name readers show as the author.
    const bot = data.users.find((u) => u.isBot && u.botId === m.botId);
    if (bot) {
      out.bot_profile = { id: m.botId, app_id: bot.appId, name: bot.realName, team_id: bot.teamId };
    }
  }
  out.text = m.text;
  out.ts = m.ts;
  if (m.user) out.team = data.conversation(m.channel)?.teamId;
  const replies = data.replies(m.channel, m.ts);
  if (m.threadTs) {
    out.thread_ts = m.threadTs;
    const parent = data.message(m.channel, m.threadTs);
    if (parent?.user) out.parent_user_id = parent.user;
  } else if (replies.length) {
    const users = [...new Set(replies.map((r) => r.user ?? r.botId ?? ''))];
    Object.assign(out, {
      thread_ts: m.ts,
      reply_count: replies.length,
      reply_users_count: users.length,
      latest_reply: replies[replies.length - 1].ts,
      reply_users: users,
    });
  }
  if (m.edited) out.edited = { ...m.edited };
  if (m.reactions.length)
    out.reactions = m.reactions.map((r) => ({
      name: r.name,
      users: [...r.users],
      count: r.users.length,
    }));
  return out;
}

/**
 * A conversation object (https://docs.slack.dev/reference/objects/conversation-object) seen by
 * `callerId`: ims name the other user. Private channels with a `G` id are `is_group`, not
 * `is_channel`, as Slack shows channels made before 2021.
 */
export function conversationView(c: ConversationRec, callerId: string): Record<string, unknown> {
  if (c.kind === 'im') {
    const other = c.members.find((m) => m !== callerId) ?? c.members[0];
    return {
      id: c.id,
      created: c.created,
      is_im: true,
      is_org_shared: false,
      user: other,
      is_user_deleted: false,
    };
  }
  const about = (value: string) => ({
    value,
    creator: value ? c.creator : '',
    last_set: value ? c.created : 0,
  });
  return {
    id: c.id,
    name: c.name,
    is_channel: c.kind === 'public_channel',
    is_group: c.kind === 'private_channel',
    is_im: false,
    is_mpim: c.kind === 'mpim',
    is_private: c.kind !== 'public_channel',
    created: c.created,
    is_archived: c.isArchived,
    is_general: c.name === 'general',
    name_normalized: c.name,
    is_member: c.members.includes(callerId),
    creator: c.creator,
    topic: about(c.topic),
    purpose: about(c.purpose),
    num_members: c.members.length,
  };
}

/** A member of users.list (https://docs.slack.dev/reference/objects/user-object). */
export function userView(u: UserRec): Record<string, unknown> {
  return {
    id: u.id,
    team_id: u.teamId,
    name: u.name,
    deleted: u.deleted,
    real_name: u.realName,
    is_bot: u.isBot,
    is_app_user: false,
    profile: {
      display_name: u.displayName,
      real_name: u.realName,
      ...(u.botId ? { bot_id: u.botId } : {}),
    },
  };
}
