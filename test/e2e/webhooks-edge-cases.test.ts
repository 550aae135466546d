import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTasksApi } from '../support/fake-tasks-api.js';
import { TEST_API_TOKEN } from '../support/test-app.js';
import { TASKS_ORIGIN } from '../support/test-sync-provider.js';
import { signDelivery, TEST_HOOKS_ID } from '../support/test-webhook-provider.js';
import { startWebhookTestApp, unixNow, type WebhookTestApp } from '../support/webhook-test-kit.js';

const task = (id: string, title: string, v: number) => ({
  id,
  listId: 'list-1',
  title,
  version: v,
});

describe('webhook receiver: what deliveries mean, and every bad request a 4xx', () => {
  let t: WebhookTestApp;
  let api: FakeTasksApi;

  beforeAll(async () => {
    api = new FakeTasksApi();
    await api.start();
    t = await startWebhookTestApp({
      PROVIDER_ORIGINS: JSON.stringify({ [TASKS_ORIGIN]: api.origin }),
    });
  });
  afterAll(async () => {
    await t?.close();
    await api?.close();
  });

  async function item(externalId: string): Promise<{ title: string; deleted_at: Date | null }[]> {
    return t.db.query(
      'SELECT title, deleted_at FROM items WHERE connection_id = $1 AND external_id = $2',
      [t.connectionId, externalId],
    );
  }

  it('keeps the newest version when deliveries arrive out of order, and applies deletions', async () => {
    await t.postSigned({
      id: 'd-v2',
      account: 'tasks-account',
      type: 'items',
      upserts: [task('t-order', 'Newer', 2)],
    });
    expect(await t.waitForFinal('d-v2')).toBe('processed');
    await t.postSigned({
      id: 'd-v1',
      account: 'tasks-account',
      type: 'items',
      upserts: [task('t-order', 'Older', 1)],
    });
    expect(await t.waitForFinal('d-v1')).toBe('processed');
    expect(await item('t-order')).toMatchObject([{ title: 'Newer', deleted_at: null }]);
    await t.postSigned({
      id: 'd-del',
      account: 'tasks-account',
      type: 'items',
      deletions: [{ id: 't-order', version: 3 }],
    });
    expect(await t.waitForFinal('d-del')).toBe('processed');
    expect((await item('t-order'))[0].deleted_at).not.toBeNull();
  });

  it('turns "resource changed" into an incremental sync of that resource', async () => {
    await t.postSigned({
      id: 'd-changed',
      account: 'tasks-account',
      type: 'changed',
      resourceId: 'list-2',
    });
    expect(await t.waitForFinal('d-changed')).toBe('processed');
    const runs = () =>
      t.db.query(
        "SELECT status, mode FROM sync_runs WHERE connection_id = $1 AND trigger = 'webhook'",
        [t.connectionId],
      );
    await expect.poll(async () => (await runs())[0]?.status, { timeout: 10_000 }).toBe('succeeded');
    expect(await runs()).toMatchObject([{ mode: 'incremental' }]);
    expect(api.requests.some((r) => r.path === '/lists/list-2/tasks')).toBe(true);
    expect(api.requests.some((r) => r.path === '/lists/list-1/tasks')).toBe(false);
  });

  it('records a delivery for an account nobody connected as unroutable, an irrelevant one as ignored', async () => {
    await t.postSigned({
      id: 'd-nobody',
      account: 'someone-else',
      type: 'items',
      upserts: [task('t-nobody', 'x', 1)],
    });
    expect(await t.waitForFinal('d-nobody')).toBe('unroutable');
    await t.postSigned({ id: 'd-noise', hello: 'world' });
    expect(await t.waitForFinal('d-noise')).toBe('ignored');
  });

  it('answers a handshake at once and stores nothing', async () => {
    const res = await t.postSigned({ type: 'url_verification', challenge: 'c-123' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toBe('c-123');
    expect(await t.deliveryRows('challenge')).toHaveLength(0);
  });

  it('maps bad requests to 4xx: unknown provider 404, malformed 400, oversize 413, HEAD probe', async () => {
    const body = JSON.stringify({ id: 'd-404' });
    expect((await t.post(body, signDelivery(body, unixNow()), 'no-such-provider')).status).toBe(
      404,
    );
    const malformed = '{"id": "d-malformed", ';
    expect((await t.post(malformed, signDelivery(malformed, unixNow()))).status).toBe(400);
    const asText = await t.post(
      malformed,
      signDelivery(malformed, unixNow()),
      TEST_HOOKS_ID,
      'text/plain',
    );
    expect(asText.status).toBe(400);
    expect(await t.deliveryRows('d-malformed')).toHaveLength(0);
    const huge = JSON.stringify({ id: 'd-huge', pad: 'x'.repeat(1024 * 1024) });
    expect((await t.post(huge, signDelivery(huge, unixNow()))).status).toBe(413);
    expect(
      (await t.post(huge, signDelivery(huge, unixNow()), TEST_HOOKS_ID, 'text/plain')).status,
    ).toBe(413);
    const head = (provider: string) =>
      fetch(`${t.baseUrl}/v1/webhooks/${provider}`, { method: 'HEAD' });
    expect((await head(TEST_HOOKS_ID)).status).toBe(200);
    expect((await head('no-such-provider')).status).toBe(404);
  });

  it('counts deliveries by outcome and times acknowledgements and processing', async () => {
    const body = JSON.stringify({ id: 'd-twice' });
    const headers = signDelivery(body, unixNow());
    await t.post(body, headers);
    await t.post(body, headers);
    await t.post(body, {});
    const res = await fetch(`${t.baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
    });
    const text = await res.text();
    for (const outcome of ['accepted', 'duplicate', 'rejected', 'unroutable', 'acknowledged']) {
      expect(text).toMatch(
        new RegExp(
          `webhook_deliveries_total\\{provider="test-hooks",outcome="${outcome}"\\} [1-9]`,
        ),
      );
    }
    expect(text).toMatch(/webhook_ack_seconds_count\{provider="test-hooks"\} [1-9]/);
    expect(text).toMatch(/webhook_processing_lag_seconds_count\{provider="test-hooks"\} [1-9]/);
  });
});
