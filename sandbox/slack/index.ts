export {
  SlackFake,
  DEFAULT_BOT_SCOPES,
  DEFAULT_USER_SCOPES,
  type SlackFakeOptions,
} from './slack.fake.js';
export { SANDBOX_SLACK_APP, type SlackApp, type AutoDecision } from './slack-oauth.js';
export { providerOrigins, SLACK_ORIGINS } from './provider-origins.js';
export { SEED_SLACK } from './seed.js';
export {
  signSlackRequest,
  slackJson,
  SLACK_VERIFICATION_TOKEN,
  type SentRequest,
  type RetryReason,
  type SlackEventsOptions,
} from './events.js';
export type { HistoryTier } from './rate-limits.js';
export type { TokenInfo, Grant, Principal } from './tokens.js';
export type {
  WorkspaceRec,
  UserRec,
  ConversationRec,
  ConversationKind,
  MessageRec,
  ReactionRec,
} from './slack-data.js';
export { microsToTs, tsToMicros } from './slack-ts.js';
