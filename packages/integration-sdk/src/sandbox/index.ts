export { SandboxNotFoundError } from './errors.js';
export { SandboxServer, ADMIN_PREFIX, send, type SandboxServerOptions } from './sandbox-server.js';
export {
  Router,
  json,
  html,
  redirect,
  empty,
  type Handler,
  type Reply,
  type RequestContext,
} from './router.js';
export { FaultQueue, faultFromJson, type FaultSpec } from './fault-queue.js';
export { RequestLog, type LoggedRequest } from './request-log.js';
export { PushSender, type PushAttempt, type PushSenderOptions } from './push-sender.js';
export { OAuth2Fake, type OAuth2FakeOptions, type AutoDecision } from './oauth2-fake.js';
export {
  TokenStore,
  OAuthError,
  s256,
  type OAuthAccount,
  type OAuthClient,
  type TokenResponse,
  type AccessTokenInfo,
} from './oauth2-tokens.js';
export { assembleJson, asciiJson } from './json-assembly.js';
export { PageCache } from './page-cache.js';
export { renderConsentPage, renderErrorPage } from './consent-page.js';
export * from './time-zones.js';

/**
 * What a plugin's sandbox entry (`<plugin>/sandbox`) hands `npm run demo` from its
 * `createDemoSandbox({ port })`: a fake to start and stop with the demo, the real origins it
 * serves (merged into PROVIDER_ORIGINS) and the environment the service needs to use it (the
 * sandbox app's credentials variables).
 */
export interface DemoSandbox {
  fake: { start(): Promise<unknown>; stop(): Promise<void> };
  origins(): Record<string, string>;
  env: Record<string, string>;
}
