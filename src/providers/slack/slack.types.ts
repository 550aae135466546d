/**
 * The parts of Slack's Web API and Events API payloads we read
 * (https://docs.slack.dev/reference/methods/conversations.history,
 * https://docs.slack.dev/apis/events-api/). Everything is optional: payloads are validated where
 * they are read.
 */

/** Every Web API answer: HTTP 200 with `ok`, the error code when `ok` is false. */
export interface SlackResponse {
  ok?: boolean;
  error?: string;
  /** missing_scope: the scope that was needed. */
  needed?: string;
  response_metadata?: { next_cursor?: string };
}

export interface SlackAuthTest extends SlackResponse {
  url?: string;
  team?: string;
  user?: string;
  team_id?: string;
  user_id?: string;
  bot_id?: string;
  enterprise_id?: string;
}

export interface SlackConversation {
  id?: string;
  name?: string;
  is_channel?: boolean;
  is_group?: boolean;
  is_im?: boolean;
  is_mpim?: boolean;
  is_private?: boolean;
  is_archived?: boolean;
  is_member?: boolean;
  /** im: the other person. */
  user?: string;
}

export interface SlackConversationsList extends SlackResponse {
  channels?: SlackConversation[];
}

export interface SlackReaction {
  name?: string;
  count?: number;
  users?: string[];
}

export interface SlackUserProfile {
  display_name?: string;
  real_name?: string;
  name?: string;
}

export interface SlackMessage {
  type?: string;
  subtype?: string;
  user?: string;
  bot_id?: string;
  username?: string;
  bot_profile?: { name?: string };
  /** Sent with message events (not documented as guaranteed). */
  user_profile?: SlackUserProfile;
  text?: string;
  ts?: string;
  thread_ts?: string;
  reply_count?: number;
  edited?: { user?: string; ts?: string };
  reactions?: SlackReaction[];
  files?: Array<{ name?: string; title?: string }>;
  /** Kept in our raw copy: the conversation the message is in. */
  channel?: string;
}

export interface SlackHistory extends SlackResponse {
  messages?: SlackMessage[];
  has_more?: boolean;
}

export interface SlackUserInfo extends SlackResponse {
  user?: { id?: string; name?: string; real_name?: string; profile?: SlackUserProfile };
}

/** An Events API request body (`url_verification` or `event_callback`). */
export interface SlackEnvelope {
  type?: string;
  challenge?: string;
  team_id?: string;
  api_app_id?: string;
  event_id?: string;
  event_time?: number;
  event?: SlackEvent;
  authorizations?: Array<{ team_id?: string; user_id?: string; is_bot?: boolean }>;
}

export interface SlackEvent extends SlackMessage {
  channel?: string;
  channel_type?: string;
  event_ts?: string;
  hidden?: boolean;
  /** message_changed: the new version. */
  message?: SlackMessage;
  /** message_deleted: the ts of the deleted message. */
  deleted_ts?: string;
  previous_message?: SlackMessage;
  /** reaction_added / reaction_removed. */
  reaction?: string;
  item?: { type?: string; channel?: string; ts?: string };
  /** tokens_revoked: whose tokens. */
  tokens?: { oauth?: string[]; bot?: string[] };
}
