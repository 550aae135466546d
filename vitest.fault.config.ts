import { defineConfig } from 'vitest/config';
import { sdkSourceAliases } from './vitest.sdk-alias.js';

// The fault and attack suite (test/fault): the built service as real processes against a Postgres
// and a Redis that each test starts on spare ports, so it can kill and restart them. Files run one
// after another: each one already runs three service processes on a 2-core machine.
export default defineConfig({
  resolve: { alias: sdkSourceAliases },
  test: {
    name: 'fault',
    include: ['test/fault/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: process.env.CI
      ? ['default', ['json', { outputFile: '.data/ci-fault-results.json' }]]
      : ['default'],
  },
});
