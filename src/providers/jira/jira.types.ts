/**
 * The parts of Jira Cloud's REST API v3 JSON this integration reads
 * (https://developer.atlassian.com/cloud/jira/platform/rest/v3/). Every field is optional:
 * answers are validated where they are read.
 */

/** One entry of `GET /oauth/token/accessible-resources`. */
export interface AtlassianResource {
  /** The cloud id. */
  id?: string;
  name?: string;
  /** `https://<site>.atlassian.net` */
  url?: string;
  scopes?: string[];
  avatarUrl?: string;
}

export interface JiraUser {
  accountId?: string;
  displayName?: string;
  emailAddress?: string;
  timeZone?: string;
  active?: boolean;
}

export interface JiraStatus {
  id?: string;
  name?: string;
  statusCategory?: { id?: number; key?: string; name?: string };
}

export interface JiraNamed {
  id?: string;
  key?: string;
  name?: string;
}

/** Atlassian Document Format node (https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/). */
export interface AdfNode {
  type?: string;
  text?: string;
  attrs?: Record<string, unknown>;
  marks?: Array<{ type?: string; attrs?: Record<string, unknown> }>;
  content?: AdfNode[];
}

export interface JiraIssueFields {
  summary?: string | null;
  /** ADF in API v3 (a plain string in v2 and in some webhook payloads: both are handled). */
  description?: AdfNode | string | null;
  status?: JiraStatus | null;
  /** `yyyy-MM-dd`, a date without time. */
  duedate?: string | null;
  assignee?: JiraUser | null;
  reporter?: JiraUser | null;
  labels?: string[] | null;
  priority?: JiraNamed | null;
  issuetype?: (JiraNamed & { subtask?: boolean }) | null;
  project?: JiraNamed | null;
  parent?: { id?: string; key?: string } | null;
  /** `2026-03-04T10:21:33.512+0000` */
  created?: string | null;
  updated?: string | null;
  resolutiondate?: string | null;
}

export interface JiraIssue {
  id?: string;
  key?: string;
  self?: string;
  fields?: JiraIssueFields;
}

/** `POST /rest/api/3/search/jql` answer: no `total`; stop on `isLast` or a missing token. */
export interface JiraSearchPage {
  issues?: JiraIssue[];
  nextPageToken?: string;
  isLast?: boolean;
}

/** `POST /rest/api/3/webhook` answer: one entry per requested webhook, in request order. */
export interface JiraWebhookRegistration {
  webhookRegistrationResult?: Array<{ createdWebhookId?: number; errors?: string[] }>;
}

/** A delivery of a dynamic webhook (https://developer.atlassian.com/cloud/jira/platform/webhooks/). */
export interface JiraWebhookPayload {
  timestamp?: number;
  webhookEvent?: string;
  issue_event_type_name?: string;
  matchedWebhookIds?: number[];
  issue?: JiraIssue;
  user?: JiraUser;
  changelog?: {
    id?: string;
    items?: Array<{ field?: string; fieldId?: string; fromString?: string; toString?: string }>;
  };
}

/** Jira's error body: `{errorMessages: [...], errors: {field: message}}`; the gateway's `{code, message}`. */
export interface JiraErrorBody {
  errorMessages?: string[];
  errors?: Record<string, string>;
  code?: number;
  message?: string;
}

/** The site a connection syncs, kept in its (encrypted) credentials' extras. */
export interface JiraSite {
  cloudId: string;
  /** `https://<site>.atlassian.net`: issue links and webhook routing. */
  url: string;
  name: string;
}
