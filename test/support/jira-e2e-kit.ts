import { SANDBOX_JIRA_APP, type JiraFake } from '../../sandbox/jira/index.js';
import {
  connectAndConfirm,
  autoConsent,
  type ConfirmedConnection,
} from '@pdeck/integration-sdk/testing';
import type { TestApp } from './test-app.js';

/** Where Jira e2e tests send the browser back to (allowed by RETURN_TO_ORIGINS). */
export const JIRA_RETURN_ORIGIN = 'http://127.0.0.1:5998';

/** The service's environment for the Jira sandbox: origins, the sandbox app, returnTo origin. */
export function jiraEnv(fake: JiraFake): Record<string, string> {
  return {
    PROVIDER_ORIGINS: JSON.stringify(fake.origins()),
    JIRA_CLIENT_ID: SANDBOX_JIRA_APP.clientId,
    JIRA_CLIENT_SECRET: SANDBOX_JIRA_APP.clientSecret,
    RETURN_TO_ORIGINS: JIRA_RETURN_ORIGIN,
  };
}

/**
 * The connect flow up to PDeck's confirmation for a seeded Atlassian account (`alice`, `bob`),
 * consenting non-interactively. Alice's connection stays pending: her grant reaches two sites.
 */
export function connectJira(
  app: TestApp,
  userId: string,
  account: string,
  inspect?: (authorizeUrl: URL) => void,
): Promise<ConfirmedConnection> {
  return connectAndConfirm(app, {
    provider: 'jira',
    userId,
    returnTo: `${JIRA_RETURN_ORIGIN}/connected`,
    consent: autoConsent(account, inspect),
  });
}

/** Live issue ids of a site in the default scope of `accountId`: assigned, not done or recent. */
export function scopeIssueIds(fake: JiraFake, cloudId: string, accountId: string): string[] {
  const ninetyDays = Date.now() - 90 * 86_400_000;
  return fake.data
    .siteIssues(cloudId)
    .filter((i) => i.assignee === accountId)
    .filter((i) => i.status !== 'Done' || i.updated >= ninetyDays)
    .map((i) => i.id)
    .sort();
}
