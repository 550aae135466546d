export {
  JiraFake,
  SANDBOX_JIRA_APP,
  DEFAULT_SCOPES,
  type JiraFakeOptions,
  type RateLimitReason,
} from './jira.fake.js';
export { providerOrigins, JIRA_ORIGINS } from './provider-origins.js';
export { SEED_SITES } from './seed.js';
export { signJwt, type WebhookRec, type IssueEvent } from './webhooks.js';
export { webhookFilterError, parseJql, JqlError } from './jql.js';
export type { JiraApp, TokenBody, AccessRec } from './jira-oauth.js';
export type {
  JiraAccount,
  SiteRec,
  ProjectRec,
  IssueRec,
  IssueInput,
  IssuePatch,
  StatusName,
  ChangeItem,
} from './jira-data.js';
