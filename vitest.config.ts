import { defineConfig } from 'vitest/config';
import { sdkSourceAliases } from './vitest.sdk-alias.js';

// Three tiers: unit tests sit beside the code (src/**/*.spec.ts); medium tests (services against
// real Postgres and Redis) and e2e tests (the app over HTTP) live under test/.
export default defineConfig({
  resolve: { alias: sdkSourceAliases },
  test: {
    globalSetup: ['./test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // CI keeps a machine-readable result next to the console output (.ci/run prints its totals).
    reporters: process.env.CI
      ? ['default', ['json', { outputFile: '.data/ci-test-results.json' }]]
      : ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['src/**/*.spec.ts', 'sandbox/**/*.spec.ts', 'packages/*/src/**/*.spec.ts', 'plugins/*/{src,sandbox}/**/*.spec.ts'],
        },
      },
      {
        extends: true,
        test: { name: 'medium', include: ['test/medium/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'] },
      },
    ],
  },
});
