import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { ConnectionStore } from '../../src/auth/connection-store.service.js';
import { eventually } from '@pdeck/integration-sdk/testing';
import { startTestApp, type TestApp } from './test-app.js';
import {
  HOOKS_SIGNING_SECRET,
  signDelivery,
  TEST_HOOKS_ID,
  TestWebhookProvider,
} from './test-webhook-provider.js';
import { storeTasksConnection } from './active-connection.js';

export interface DeliveryRow {
  id: string;
  status: string;
  attempts: number;
  headers: Record<string, string>;
}

/** An app with the test webhook provider enabled, one connection, and HTTP/DB helpers. */
export interface WebhookTestApp extends TestApp {
  db: DataSource;
  connectionId: string;
  post(
    body: Buffer | string,
    headers: Record<string, string>,
    provider?: string,
    contentType?: string,
  ): Promise<Response>;
  /** JSON-encodes and signs with the current time. */
  postSigned(payload: unknown): Promise<Response>;
  deliveryRows(deliveryId: string): Promise<DeliveryRow[]>;
  /** Polls until the delivery left `received`; returns its final status. */
  waitForFinal(deliveryId: string, timeoutMs?: number): Promise<string>;
}

export const unixNow = (): number => Math.floor(Date.now() / 1000);

export async function startWebhookTestApp(
  env: Record<string, string> = {},
): Promise<WebhookTestApp> {
  const t = await startTestApp({
    integrations: [TestWebhookProvider],
    env,
    configure: (config) => {
      config.providerCredentials[TEST_HOOKS_ID] = {
        clientId: 'cid',
        clientSecret: 'csecret',
        signingSecret: HOOKS_SIGNING_SECRET,
      };
    },
  });
  const db = t.app.get(DataSource);
  const connectionId = await createConnection(t);
  const post: WebhookTestApp['post'] = (
    body,
    headers,
    provider = TEST_HOOKS_ID,
    contentType = 'application/json',
  ) =>
    fetch(`${t.baseUrl}/v1/webhooks/${provider}`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...headers },
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
  const deliveryRows = (deliveryId: string): Promise<DeliveryRow[]> =>
    db.query(
      'SELECT id, status, attempts, headers FROM webhook_deliveries WHERE provider = $1 AND delivery_id = $2',
      [TEST_HOOKS_ID, deliveryId],
    );
  const waitForFinal = (deliveryId: string, timeoutMs = 15_000): Promise<string> =>
    eventually(
      async () => {
        const [row] = await deliveryRows(deliveryId);
        return row && row.status !== 'received' ? row.status : undefined;
      },
      `delivery ${deliveryId} to leave "received"`,
      { timeoutMs, debug: async () => deliveryRows(deliveryId) },
    );
  const postSigned = (payload: unknown): Promise<Response> => {
    const body = JSON.stringify(payload);
    return post(body, signDelivery(body, unixNow()));
  };
  return Object.assign(t, { db, connectionId, post, postSigned, deliveryRows, waitForFinal });
}

/** The connection deliveries route to (account "tasks-account", token accepted by the fakes). */
export function createConnection(t: TestApp, userId = 'user-hooks'): Promise<string> {
  return storeTasksConnection(t.app.get(ConnectionStore), TEST_HOOKS_ID, userId);
}

interface Watch {
  id: string;
  listId: string;
  address: string;
  token: string;
  expiration: number;
}

/** The provider side of subscriptions: watch / renew / stop, recording every call. */
export class FakeWatchApi {
  readonly watches = new Map<string, Watch>();
  readonly calls: { op: 'watch' | 'renew' | 'stop'; id: string; status: number }[] = [];
  lifetimeMs = 3600_000;
  origin = '';
  private next = 0;
  private server?: http.Server;

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.origin;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    if (req.headers.authorization !== 'Bearer tasks-token')
      return send(res, 401, { error: 'unauthorized' });
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'POST' && path === '/watch') {
      const body = JSON.parse(raw) as { listId: string; address: string };
      const watch = {
        id: `ch-${++this.next}`,
        ...body,
        token: randomBytes(16).toString('hex'),
        expiration: Date.now() + this.lifetimeMs,
      };
      this.watches.set(watch.id, watch);
      this.calls.push({ op: 'watch', id: watch.id, status: 200 });
      return send(res, 200, watch);
    }
    const match = /^\/watch\/([^/]+)(\/renew)?$/.exec(path);
    const watch = match ? this.watches.get(match[1]) : undefined;
    const op = req.method === 'DELETE' ? 'stop' : 'renew';
    this.calls.push({ op, id: match?.[1] ?? path, status: watch ? 200 : 404 });
    if (!watch) return send(res, 404, { error: 'not found' });
    if (op === 'stop') {
      this.watches.delete(watch.id);
      return send(res, 204);
    }
    watch.expiration = Date.now() + 2 * this.lifetimeMs;
    return send(res, 200, { id: watch.id, expiration: watch.expiration });
  }
}

function send(res: http.ServerResponse, status: number, body?: unknown): void {
  res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}
