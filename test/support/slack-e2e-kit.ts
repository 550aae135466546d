import { SANDBOX_SLACK_APP, SEED_SLACK, type SlackFake } from '../../sandbox/slack/index.js';
import {
  connectAndConfirm,
  autoConsent,
  type ConfirmedConnection,
} from '@pdeck/integration-sdk/testing';
import type { TestApp } from './test-app.js';

/** Where Slack e2e tests send the browser back to (allowed by RETURN_TO_ORIGINS). */
export const SLACK_RETURN_ORIGIN = 'http://127.0.0.1:5997';

const DAY_MS = 86_400_000;

/**
 * The service's environment for the Slack sandbox: origins, the sandbox app and its signing
 * secret, and an internal app's history limits (50 calls a minute: the sandbox's `tier3`), so a
 * backfill takes seconds; tests of the one-call-a-minute pace set their own.
 */
export function slackEnv(fake: SlackFake): Record<string, string> {
  return {
    PROVIDER_ORIGINS: JSON.stringify(fake.origins()),
    SLACK_CLIENT_ID: SANDBOX_SLACK_APP.clientId,
    SLACK_CLIENT_SECRET: SANDBOX_SLACK_APP.clientSecret,
    SLACK_SIGNING_SECRET: SANDBOX_SLACK_APP.signingSecret,
    SLACK_APP_DISTRIBUTION: 'internal',
    RETURN_TO_ORIGINS: SLACK_RETURN_ORIGIN,
  };
}

/** Points the fake's Events API at the app (Slack checks it with url_verification first). */
export async function useRequestUrl(fake: SlackFake, app: TestApp): Promise<void> {
  const answer = await fake.setRequestUrl(`${app.baseUrl}/v1/webhooks/slack`);
  if (!answer.ok) throw new Error(`url_verification failed (HTTP ${answer.status})`);
}

/** The connect flow up to PDeck's confirmation for a seeded Slack user (`alice`, `bob`). */
export function connectSlack(
  app: TestApp,
  userId: string,
  account: string,
  inspect?: (authorizeUrl: URL) => void,
): Promise<ConfirmedConnection> {
  return connectAndConfirm(app, {
    provider: 'slack',
    userId,
    returnTo: `${SLACK_RETURN_ORIGIN}/connected`,
    consent: autoConsent(account, inspect),
  });
}

/**
 * The messages a connection of `userId` must hold after its backfill, as external ids
 * (`channel:ts`): in every unarchived conversation the user is in, plus public channels the bot
 * is in, the parents (and broadcasts) of the last `days` days and every reply of those threads.
 */
export function backfillIds(fake: SlackFake, userId: string, days = 7, now = Date.now()): string[] {
  const oldest = (now - days * DAY_MS) / 1000;
  const ids: string[] = [];
  for (const channel of Object.values(SEED_SLACK.channels)) {
    const conversation = fake.data.conversation(channel);
    if (!conversation || conversation.isArchived) continue;
    const readable =
      fake.data.isMember(channel, userId) ||
      (conversation.kind === 'public_channel' && fake.data.isMember(channel, SEED_SLACK.users.bot));
    if (!readable) continue;
    const parents = fake.data.messages(channel).filter((m) => Number(m.ts) > oldest);
    for (const m of parents) {
      ids.push(`${channel}:${m.ts}`);
      for (const r of fake.data.replies(channel, m.ts)) ids.push(`${channel}:${r.ts}`);
    }
  }
  return [...new Set(ids)].sort();
}
