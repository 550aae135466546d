import { SANDBOX_TRELLO_APP, type TrelloFake } from '../../sandbox/trello/trello.fake.js';
import {
  driveConnect,
  autoConsent,
  syncIdle,
  type ContractContext,
  eventually,
} from '@pdeck/integration-sdk/testing';
import type { TestApp } from './test-app.js';

/** Where Trello e2e tests send the browser back to (allowed by RETURN_TO_ORIGINS). */
export const TRELLO_RETURN_ORIGIN = 'http://127.0.0.1:5999';

/** The service's environment for the Trello sandbox: origins, the sandbox app, returnTo origin. */
export function trelloEnv(fake: TrelloFake): Record<string, string> {
  return {
    PROVIDER_ORIGINS: JSON.stringify(fake.origins()),
    TRELLO_API_KEY: SANDBOX_TRELLO_APP.key,
    TRELLO_API_SECRET: SANDBOX_TRELLO_APP.secret,
    RETURN_TO_ORIGINS: TRELLO_RETURN_ORIGIN,
  };
}

/**
 * Connects the sandbox member alice for `userId` through consent and confirmation. `inspect`
 * sees the authorize URL first (to assert on it).
 */
export function connectAlice(
  app: TestApp,
  userId: string,
  inspect?: (authorizeUrl: URL) => void,
): Promise<string> {
  return driveConnect(app, {
    provider: 'trello',
    userId,
    returnTo: `${TRELLO_RETURN_ORIGIN}/connected`,
    consent: autoConsent('alice', inspect),
  });
}

/** Waits for the initial full sync and for one webhook per open board of alice (two). */
export async function untilSyncedAndSubscribed(
  ctx: ContractContext,
  fake: TrelloFake,
  debug: () => unknown,
): Promise<void> {
  await eventually(() => syncIdle(ctx), 'the initial full sync', { timeoutMs: 30_000, debug });
  // Product and Personal, each created after Trello's HEAD probe of our callback URL.
  await eventually(
    async () => (fake.webhooks.hooks.size === 2 ? true : undefined),
    'a webhook per open board at Trello',
    { timeoutMs: 15_000, debug },
  );
}
