import { resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionStore } from '../../src/auth/connection-store.service.js';
import { ProviderRegistry } from '../../src/providers/provider-registry.js';
import { storeTasksConnection } from '../support/active-connection.js';
import { connectSessionUrl, createConnectSession, UiBrowser } from '../support/connect-ui-kit.js';
import { eventually } from '@pdeck/integration-sdk/testing';
import { FakeTasksApi } from '../support/fake-tasks-api.js';
import { startTestApp, TEST_API_TOKEN, type TestApp } from '../support/test-app.js';

/** The fixture plugin: plain ESM outside src/, loaded by path like any third-party plugin. */
const PLUGIN = resolve(import.meta.dirname, '../fixtures/plugins/fixture-tasks/index.js');
const PLUGIN_ORIGIN = 'https://api.fixture-tasks.example';
const PLUGIN_ID = 'fixture-tasks';
const USER = 'user-plugin';
const auth = { authorization: `Bearer ${TEST_API_TOKEN}`, 'content-type': 'application/json' };

async function listedIntegrations(t: TestApp): Promise<string[]> {
  const browser = new UiBrowser(t.baseUrl);
  expect((await browser.open(await connectSessionUrl(t.baseUrl, { userId: USER }))).status).toBe(
    303,
  );
  const res = await browser.get('/connect/state');
  expect(res.status).toBe(200);
  const state = (await res.json()) as { integrations: { id: string; name: string }[] };
  return state.integrations.map((i) => `${i.id}:${i.name}`);
}

describe('integration plugins (INTEGRATION_PLUGINS)', () => {
  describe('with the fixture plugin listed and its credentials set', () => {
    let t: TestApp;
    let api: FakeTasksApi;

    beforeAll(async () => {
      api = new FakeTasksApi();
      api.seed(3);
      await api.start();
      t = await startTestApp({
        env: {
          INTEGRATION_PLUGINS: PLUGIN,
          FIXTURE_TASKS_CLIENT_ID: 'fixture-client',
          FIXTURE_TASKS_CLIENT_SECRET: 'fixture-secret',
          PROVIDER_ORIGINS: JSON.stringify({ [PLUGIN_ORIGIN]: api.origin }),
        },
      });
    });
    afterAll(async () => {
      await t?.close();
      await api?.close();
    });

    it('is registered and enabled, its credentials read from its catalog variables', () => {
      const registry = t.app.get(ProviderRegistry);
      expect(registry.enabled().map((p) => p.catalog.id)).toEqual([PLUGIN_ID]);
      expect(registry.credentials(PLUGIN_ID)).toMatchObject({
        clientId: 'fixture-client',
        clientSecret: 'fixture-secret',
      });
    });

    it('is offered by the Connect UI and accepted by connect sessions', async () => {
      expect(await listedIntegrations(t)).toEqual([`${PLUGIN_ID}:Fixture Tasks`]);
      const res = await createConnectSession(t.baseUrl, { userId: USER, providers: [PLUGIN_ID] });
      expect(res.status).toBe(201);
    });

    it('syncs a connection over HTTP into the items store', async () => {
      const connectionId = await storeTasksConnection(t.app.get(ConnectionStore), PLUGIN_ID, USER);
      const res = await fetch(`${t.baseUrl}/v1/connections/${connectionId}/sync`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ mode: 'full' }),
      });
      expect(res.status).toBe(202);
      const { syncRunId } = (await res.json()) as { syncRunId: string };
      const db = t.app.get(DataSource);
      const run = await eventually(async () => {
        const [row] = await db.query('SELECT status FROM sync_runs WHERE id = $1', [syncRunId]);
        return row && row.status !== 'running' && row.status !== 'queued' ? row : undefined;
      }, `sync run ${syncRunId} to end`);
      expect(run.status).toBe('succeeded');
      const items = await db.query(
        'SELECT external_id FROM items WHERE connection_id = $1 AND deleted_at IS NULL ORDER BY external_id',
        [connectionId],
      );
      expect(items.map((r: { external_id: string }) => r.external_id)).toEqual(
        [...api.tasks.keys()].sort(),
      );
      expect(api.requests.some((r) => r.path.startsWith('/lists'))).toBe(true);
    });
  });

  describe('with INTEGRATION_PLUGINS unset', () => {
    let t: TestApp;

    beforeAll(async () => {
      // Its credentials stay set: without the plugin nobody reads them, and nothing else changes.
      t = await startTestApp({
        env: {
          FIXTURE_TASKS_CLIENT_ID: 'fixture-client',
          FIXTURE_TASKS_CLIENT_SECRET: 'fixture-secret',
        },
      });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('is absent from the registry, the Connect UI and connect sessions', async () => {
      expect(t.app.get(ProviderRegistry).find(PLUGIN_ID)).toBeUndefined();
      expect(t.config.providerCredentials[PLUGIN_ID]).toBeUndefined();
      expect(await listedIntegrations(t)).toEqual([]);
      const res = await createConnectSession(t.baseUrl, { userId: USER, providers: [PLUGIN_ID] });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_providers' });
    });
  });
});
