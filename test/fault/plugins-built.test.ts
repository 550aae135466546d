import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from '../harness/cluster.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/plugins');
const GOOD = resolve(FIXTURES, 'fixture-tasks/index.js');
const CREDENTIALS = {
  FIXTURE_TASKS_CLIENT_ID: 'fixture-client',
  FIXTURE_TASKS_CLIENT_SECRET: 'fixture-secret',
};
/** This repository's Outlook plugin, by package name: its built entry, through npm workspaces. */
const OUTLOOK = '@pdeck/plugin-outlook-calendar';
const OUTLOOK_CREDENTIALS = {
  OUTLOOK_CALENDAR_CLIENT_ID: 'outlook-client',
  OUTLOOK_CALENDAR_CLIENT_SECRET: 'outlook-secret',
};

/** The built service (`npm run test:fault` builds it) with INTEGRATION_PLUGINS. */
describe('integration plugins in the built service', () => {
  it.each([
    [
      resolve(FIXTURES, 'bad-version/index.js'),
      'sdkVersion "2" is not supported (this service implements "1")',
    ],
    [resolve(FIXTURES, 'throws-on-import/index.js'), 'cannot be loaded (it threw: '],
    ['pdeck-plugin-that-is-not-installed', 'cannot be loaded (not found: '],
  ])('refuses %s at startup with one line and a non-zero exit', (specifier, problem) => {
    const run = spawnSync(process.execPath, [resolve('dist/main.js')], {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        // The good plugin first: the refusal names the bad one, not the list.
        INTEGRATION_PLUGINS: `${GOOD},${specifier}`,
        ...CREDENTIALS,
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    const lines = `${run.stdout}${run.stderr}`.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`Invalid plugin "${specifier}" in INTEGRATION_PLUGINS: ${problem}`);
  });

  describe('with a good plugin, an api and a worker process', () => {
    let cluster: Cluster;

    beforeAll(async () => {
      cluster = await new Cluster({
        workers: 1,
        env: { INTEGRATION_PLUGINS: `${GOOD},${OUTLOOK}`, ...CREDENTIALS, ...OUTLOOK_CREDENTIALS },
      }).start();
    });
    afterAll(async () => {
      await cluster?.stop();
    });

    it('starts both and offers the plugins (a path and a package name) to connect sessions', async () => {
      const ok = await cluster.request('/v1/connect-sessions', {
        method: 'POST',
        body: JSON.stringify({ userId: 'u1', providers: ['fixture-tasks', 'outlook-calendar'] }),
      });
      expect(ok.status).toBe(201);
      const unknown = await cluster.request('/v1/connect-sessions', {
        method: 'POST',
        body: JSON.stringify({ userId: 'u1', providers: ['not-a-plugin'] }),
      });
      expect(unknown.status).toBe(400);
    });
  });
});
