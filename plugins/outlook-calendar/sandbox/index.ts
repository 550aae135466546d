export {
  OutlookFake,
  SANDBOX_OUTLOOK_CLIENT,
  MICROSOFT_ORIGINS,
  type OutlookFakeOptions,
} from './outlook.fake.js';
export { ALICE, BOB } from './seed.js';
export type { FakeEvent, EventInput, Mailbox } from './mailbox.js';
export type { FakeSubscription, LifecycleEvent } from './subscriptions.js';
export { createDemoSandbox } from './demo.js';
