import type { DemoSandbox } from '@pdeck/integration-sdk/sandbox';
import { OutlookFake, SANDBOX_OUTLOOK_CLIENT } from './outlook.fake.js';

/**
 * The Outlook Calendar fake as `npm run demo` runs it beside the built-in fakes: seeded mailboxes
 * (alice@contoso.example, bob@outlook.example), the sandbox app's credentials, and http
 * notification URLs on loopback (the demo's service is http://localhost; Graph itself requires
 * https).
 */
export function createDemoSandbox(options: { port: number }): DemoSandbox {
  const fake = new OutlookFake({ port: options.port, allowHttpLoopback: true });
  return {
    fake,
    origins: () => fake.origins(),
    env: {
      OUTLOOK_CALENDAR_CLIENT_ID: SANDBOX_OUTLOOK_CLIENT.clientId,
      OUTLOOK_CALENDAR_CLIENT_SECRET: SANDBOX_OUTLOOK_CLIENT.clientSecret,
    },
  };
}
