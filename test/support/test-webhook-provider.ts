import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import {
  type NormalizedItem,
  type ProviderCatalogEntry,
  type ProviderContext,
  type SyncResource,
  type NewSubscription,
  type StoredWebhookDelivery,
  type StoredWebhookSubscription,
  type VerifyResult,
  type WebhookEvent,
  type WebhookHandler,
  type WebhookParseContext,
  type WebhookRequest,
  type WebhookVerifyContext,
  normalizedItem,
} from '@pdeck/integration-sdk';
import { TestSyncProvider } from './test-sync-provider.js';

export const TEST_HOOKS_ID = 'test-hooks';
/** Origin of the subscription API (FakeWatchApi), mapped through PROVIDER_ORIGINS. */
export const WATCH_ORIGIN = 'https://watch.tasks.example';
export const HOOKS_SIGNING_SECRET = 'test-hooks-signing-secret-0123456789';
const TOLERANCE_S = 300;

/** Knobs and observations shared between a test and the provider instance inside its app. */
export const webhookTestControls = {
  /** parse() waits this long (aborted by `abort`), to prove acks never wait for processing. */
  parseDelayMs: 0,
  abort: new AbortController(),
  /** Delivery ids in the order parse() saw them. */
  parsed: [] as string[],
};

/** Slack-style v0 signature headers over the exact body bytes. */
export function signDelivery(
  body: Buffer | string,
  timestamp: number,
  secret = HOOKS_SIGNING_SECRET,
): Record<string, string> {
  const hmac = createHmac('sha256', secret).update(`v0:${timestamp}:`).update(body).digest('hex');
  return { 'x-test-timestamp': String(timestamp), 'x-test-signature': `v0=${hmac}` };
}

export interface TestDeliveryBody {
  id?: string;
  account?: string;
  type?: 'items' | 'changed' | 'url_verification' | 'attention';
  upserts?: { id: string; listId: string; title: string; version: number }[];
  deletions?: { id: string; version: number }[];
  resourceId?: string;
  challenge?: string;
  /** `attention`: the provider-side id of the subscription to renew or replace now. */
  subscription?: string;
  action?: 'renew' | 'replace';
}

const version = (n: number): string => String(n).padStart(12, '0');

/**
 * Webhooks of the test provider: a Slack-like signing scheme (HMAC-SHA256 over
 * "v0:<ts>:<raw body>", 5-minute window), delivery id from the body (a hash of the bytes when
 * absent), routing by account id, and subscriptions against FakeWatchApi (webhook-test-kit.ts).
 */
class TestWebhooks implements WebhookHandler {
  readonly storedHeaders = ['x-test-timestamp'];
  readonly renewBefore = 10 * 60_000;
  readonly probe = 'head' as const;

  async verify(req: WebhookRequest, ctx: WebhookVerifyContext): Promise<VerifyResult> {
    const timestamp = req.headers['x-test-timestamp'];
    const signature = req.headers['x-test-signature'];
    if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp))
      return { ok: false, reason: 'missing or malformed signature headers' };
    if (Math.abs(ctx.now().getTime() / 1000 - Number(timestamp)) > TOLERANCE_S)
      return { ok: false, reason: 'timestamp outside the window' };
    const expected = Buffer.from(
      signDelivery(req.rawBody, Number(timestamp), ctx.appSecret)['x-test-signature'],
    );
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return { ok: false, reason: 'signature mismatch' };
    let body: TestDeliveryBody;
    try {
      body = JSON.parse(req.rawBody.toString('utf8')) as TestDeliveryBody;
    } catch {
      return { ok: false, status: 400, reason: 'body is not JSON' };
    }
    if (body?.type === 'url_verification' && typeof body.challenge === 'string') {
      return {
        ok: true,
        deliveryId: 'challenge',
        immediateResponse: { status: 200, body: body.challenge, contentType: 'text/plain' },
      };
    }
    const deliveryId =
      typeof body?.id === 'string' && body.id
        ? body.id
        : `sha256:${createHash('sha256').update(req.rawBody).digest('hex')}`;
    return { ok: true, deliveryId };
  }

  async parse(delivery: StoredWebhookDelivery, ctx: WebhookParseContext): Promise<WebhookEvent[]> {
    webhookTestControls.parsed.push(delivery.deliveryId);
    if (webhookTestControls.parseDelayMs > 0) {
      await sleep(webhookTestControls.parseDelayMs, undefined, {
        signal: webhookTestControls.abort.signal,
      }).catch(() => undefined);
    }
    const body = JSON.parse(delivery.body) as TestDeliveryBody;
    if (typeof body?.account !== 'string') return [];
    const connections = await ctx.findConnections({ accountId: body.account });
    return connections.map((c): WebhookEvent =>
      body.type === 'attention'
        ? {
            type: 'subscription-attention',
            connectionId: c.connectionId,
            subscriptionExternalId: body.subscription ?? '',
            action: body.action ?? 'renew',
          }
        : body.type === 'changed'
          ? {
              type: 'resource-changed',
              connectionId: c.connectionId,
              resourceId: body.resourceId ?? 'list-1',
            }
          : {
              type: 'items',
              connectionId: c.connectionId,
              upserts: (body.upserts ?? []).map(toItem),
              deletions: (body.deletions ?? []).map((d) => ({
                kind: 'task' as const,
                externalId: d.id,
                externalVersion: version(d.version),
              })),
            },
    );
  }

  async subscribe(
    ctx: ProviderContext,
    resource: SyncResource,
    callbackUrl: string,
  ): Promise<NewSubscription> {
    const res = await call<{ id: string; token: string; expiration: number }>(
      ctx,
      'POST',
      '/watch',
      { listId: resource.id, address: callbackUrl },
    );
    return { externalId: res.id, secret: res.token, expiresAt: new Date(res.expiration) };
  }

  async renew(ctx: ProviderContext, sub: StoredWebhookSubscription): Promise<NewSubscription> {
    const res = await call<{ expiration: number }>(
      ctx,
      'POST',
      `/watch/${sub.externalId}/renew`,
      {},
    );
    return {
      externalId: sub.externalId,
      secret: sub.secret ?? undefined,
      expiresAt: new Date(res.expiration),
    };
  }

  async unsubscribe(ctx: ProviderContext, sub: StoredWebhookSubscription): Promise<void> {
    await call(ctx, 'DELETE', `/watch/${sub.externalId}`);
  }
}

async function call<T>(
  ctx: ProviderContext,
  method: string,
  path: string,
  json?: unknown,
): Promise<T> {
  const { accessToken } = await ctx.credentials();
  const headers = { authorization: `Bearer ${accessToken}` };
  const res = await ctx.http.request<T>({
    method,
    url: `${WATCH_ORIGIN}${path}`,
    json,
    headers,
    expect: json === undefined ? 'none' : 'json',
  });
  return res.data;
}

function toItem(t: { id: string; listId: string; title: string; version: number }): NormalizedItem {
  return normalizedItem({
    kind: 'task',
    externalId: t.id,
    externalVersion: version(t.version),
    containerId: t.listId,
    title: t.title,
    status: 'open',
    raw: t,
  });
}

/** TestSyncProvider (lists and tasks over FakeTasksApi) plus webhooks. */
@Injectable()
export class TestWebhookProvider extends TestSyncProvider {
  override readonly catalog: ProviderCatalogEntry = {
    ...new TestSyncProvider().catalog,
    id: TEST_HOOKS_ID,
    displayName: 'Test Hooks',
  };
  readonly webhooks: WebhookHandler = new TestWebhooks();
}
