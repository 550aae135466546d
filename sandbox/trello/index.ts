export { TrelloFake, SANDBOX_TRELLO_APP, type TrelloFakeOptions } from './trello.fake.js';
export { providerOrigins, TRELLO_ORIGINS } from './provider-origins.js';
export {
  trelloWebhookSignature,
  type WebhookRec,
  type WebhookDeliveryOptions,
} from './webhooks.js';
export { rateLimitBody, type RateLimitOptions, type TrelloLimitError } from './rate-limits.js';
export type { TrelloSeed } from './seed.js';
export type { TrelloApp, TokenRec, AutoDecision } from './trello-oauth.js';
export type {
  ActionRec,
  CardRec,
  CardInput,
  CardPatch,
  ChangeOptions,
  ListRec,
  BoardRec,
  MemberRec,
} from './trello-data.js';
