/**
 * The PDeck integration SDK: what an integration is written against, inside the service or as a
 * plugin package listed in INTEGRATION_PLUGINS.
 *
 * - The provider contract (`IntegrationProvider` and its catalog, context, items and pages) and
 *   the webhook contract (`WebhookHandler`).
 * - `ProviderError` and its codes, and `createErrorMapper` for a provider's one error mapper.
 * - Calls through the engine's HTTP client (`bearerApi`, `authorizedCall`), paging (`pages`),
 *   webhook verification primitives (`hmac`, `safeEqual`, `verifyHs256Jwt`).
 * - The catalog schema (`catalogProblem`) and the plugin shape (`IntegrationPlugin`).
 *
 * Entry points beside this one: `@pdeck/integration-sdk/testing` (the contract test kit) and
 * `@pdeck/integration-sdk/sandbox` (the base of a provider's HTTP fake).
 */
export * from './contract.js';
export * from './webhooks.js';
export * from './http.js';
export * from './http-status-error.js';
export * from './provider-error.js';
export * from './preclassify.js';
export * from './error-mapper.js';
export * from './request.js';
export * from './paging.js';
export * from './verify.js';
export * from './retry-after.js';
export * from './normalized-item.js';
export * from './link-references.js';
export * from './catalog.js';
export * from './plugin.js';
