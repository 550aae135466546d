import { resolve } from 'node:path';

const SDK = resolve(import.meta.dirname, 'packages/integration-sdk/src');
const PLUGINS = resolve(import.meta.dirname, 'plugins');

/**
 * Tests run the SDK from its TypeScript sources (no build step before `vitest`), as `tsc` reads
 * them through the `pdeck-source` export condition. One module instance serves the service and
 * every plugin a test loads, as `node_modules/@pdeck/integration-sdk` does in the built service.
 * The repository's own plugins are run from source the same way.
 */
export const sdkSourceAliases = [
  { find: /^@pdeck\/integration-sdk$/, replacement: `${SDK}/index.ts` },
  { find: /^@pdeck\/integration-sdk\/testing$/, replacement: `${SDK}/testing/index.ts` },
  { find: /^@pdeck\/integration-sdk\/sandbox$/, replacement: `${SDK}/sandbox/index.ts` },
  // The plugins of this repository (plugins/<name>), by package name, with their fakes.
  { find: /^@pdeck\/plugin-([a-z0-9-]+)$/, replacement: `${PLUGINS}/$1/src/index.ts` },
  { find: /^@pdeck\/plugin-([a-z0-9-]+)\/sandbox$/, replacement: `${PLUGINS}/$1/sandbox/index.ts` },
];
