import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { TEST_OAUTH_ID, TestOAuthProvider } from '../support/test-oauth-provider.js';
import { CLIENT } from '../support/token-test-kit.js';

/** The public OAuth callback answers at most OAUTH_CALLBACK_RATE_LIMIT requests a minute per address. */
describe('OAuth callback rate limit, on the real route', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      integrations: [TestOAuthProvider],
      env: { OAUTH_CALLBACK_RATE_LIMIT: '3' },
      configure: (config) => {
        config.providerCredentials[TEST_OAUTH_ID] = { ...CLIENT };
      },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers a guessing client 429 with Retry-After after the limit, and counts the refusals too', async () => {
    const url = `${t.baseUrl}/v1/oauth/${TEST_OAUTH_ID}/callback?code=guess&state=${'a'.repeat(43)}`;
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i++) {
      const res = await fetch(url, { headers: { accept: 'application/json' } });
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
      await res.body?.cancel();
    }
    // Unknown states are refused (400) until the limit; then the route refuses to look at all.
    expect(statuses).toEqual([400, 400, 400, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });
});
