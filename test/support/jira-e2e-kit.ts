import { SANDBOX_JIRA_APP, type JiraFake } from '../../sandbox/jira/index.js';
import { CONTRACT_AUTH, followConsentRedirect } from '../contract/provider-contract.js';
import type { TestApp } from './test-app.js';
import { expect } from 'vitest';

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

export interface ConfirmedConnection {
  id: string;
  status: string;
  pendingReason: string | null;
  siteId: string | null;
  accountId: string;
  accountLabel: string;
}

/**
 * The connect flow up to PDeck's confirmation, for a seeded Atlassian account (`alice`, `bob`):
 * authorize -> the fake's consent (auto allow) -> our callback -> returnTo -> confirm. Returns
 * the confirmed connection as the confirm answer shows it (Alice's stays pending: two sites).
 */
export async function connectJira(
  app: TestApp,
  userId: string,
  account: string,
  inspect?: (authorizeUrl: URL) => void,
): Promise<ConfirmedConnection> {
  const returnTo = `${JIRA_RETURN_ORIGIN}/connected`;
  const start = await fetch(`${app.baseUrl}/v1/connections/jira/authorize`, {
    method: 'POST',
    headers: CONTRACT_AUTH,
    body: JSON.stringify({ userId, returnTo }),
  });
  expect(start.status).toBe(201);
  const authorizeUrl = new URL(((await start.json()) as { authorizeUrl: string }).authorizeUrl);
  inspect?.(authorizeUrl);
  authorizeUrl.searchParams.set('auto', 'allow');
  authorizeUrl.searchParams.set('account', account);
  const callback = await followConsentRedirect(authorizeUrl);
  expect(callback.pathname).toBe('/v1/oauth/jira/callback');
  const done = await fetch(callback, { redirect: 'manual' });
  expect(done.status).toBe(302);
  const landed = new URL(done.headers.get('location')!);
  expect(landed.searchParams.get('error')).toBeNull();
  const id = landed.searchParams.get('connectionId') ?? '';
  const confirmed = await fetch(`${app.baseUrl}/v1/connections/${id}/confirm`, {
    method: 'POST',
    headers: CONTRACT_AUTH,
    body: JSON.stringify({ userId, token: landed.searchParams.get('confirm') }),
  });
  expect(confirmed.status).toBe(200);
  return (await confirmed.json()) as ConfirmedConnection;
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
