import { GoogleCalendarFake } from '../../sandbox/google-calendar/google-calendar.fake.js';
import { SANDBOX_TRELLO_APP, TrelloFake } from '../../sandbox/trello/trello.fake.js';
import type { Cluster } from '../harness/cluster.js';
import { eventually, GiveUp } from '@pdeck/integration-sdk/testing';
import { googleEnv } from './google-kit.js';

/** The message of the global bearer guard's 401 (src/core/security/internal-api.guard.ts). */
export const GUARD_MESSAGE = 'A valid internal API bearer token is required';

/**
 * The operations of the OpenAPI document that may answer without the internal bearer token,
 * from docs/architecture.md and the README's "HTTP surface": OAuth callbacks, the webhook
 * receiver (POST and Trello's HEAD probe) and the health probes. /docs itself is not an operation of the document.
 * Anything else that answers without a token is a route made public by accident.
 */
export const EXPECTED_PUBLIC = [
  'GET /health/live',
  'GET /health/ready',
  'GET /v1/oauth/{provider}/callback',
  'HEAD /v1/webhooks/{provider}',
  'POST /v1/webhooks/{provider}',
];

/** Both sandbox fakes, wired into one environment for the cluster. */
export function securityEnv(
  google: GoogleCalendarFake,
  trello: TrelloFake,
): Record<string, string> {
  const base = googleEnv(google);
  return {
    ...base,
    PROVIDER_ORIGINS: JSON.stringify({ ...google.origins(), ...trello.origins() }),
    TRELLO_API_KEY: SANDBOX_TRELLO_APP.key,
    TRELLO_API_SECRET: SANDBOX_TRELLO_APP.secret,
  };
}

export interface Answer {
  status: number;
  text: string;
}

/**
 * Sends requests to the cluster, counts them by status class and keeps every response body, so
 * the leak scan can search what the API answered.
 */
export class Recorder {
  sent = 0;
  readonly classes: Record<string, number> = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
  readonly bodies: string[] = [];
  /** `label -> status` of every 5xx, for a readable failure. */
  readonly serverErrors: string[] = [];

  constructor(private readonly cluster: Cluster) {}

  /** A request without credentials unless `init.headers` carries some. */
  async send(label: string, pathOrUrl: string, init: RequestInit = {}): Promise<Answer> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.cluster.baseUrl}${pathOrUrl}`;
    this.sent += 1;
    const res = await fetch(url, { redirect: 'manual', ...init });
    const text = await res.text();
    this.note(label, res.status, text);
    return { status: res.status, text };
  }

  /** A request with the internal bearer token (and JSON content type unless overridden). */
  async internal(label: string, path: string, init: RequestInit = {}): Promise<Answer> {
    this.sent += 1;
    const res = await this.cluster.request(path, { redirect: 'manual', ...init });
    const text = await res.text();
    this.note(label, res.status, text);
    return { status: res.status, text };
  }

  private note(label: string, status: number, text: string): void {
    this.classes[`${Math.floor(status / 100)}xx`] += 1;
    this.bodies.push(text);
    if (status >= 500) this.serverErrors.push(`${label} -> ${status} ${text.slice(0, 200)}`);
  }
}

/** Count of rows in a table (the tables the bad requests must leave alone). */
export async function rowCount(cluster: Cluster, table: string): Promise<number> {
  const [row] = await cluster.pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return row.n;
}

/** Waits for the connection's first sync (trigger `connect`) to succeed. */
export async function initialSync(cluster: Cluster, connectionId: string): Promise<void> {
  await eventually(
    async () => {
      const [run] = await cluster.pg.query<{ status: string }>(
        "SELECT status FROM sync_runs WHERE connection_id = $1 AND trigger = 'connect'",
        [connectionId],
      );
      if (run?.status === 'failed') throw new GiveUp(`initial sync of ${connectionId} failed`);
      return run?.status === 'succeeded' ? true : undefined;
    },
    `the initial sync of ${connectionId}`,
    60_000,
  );
}

/** Waits until the connection has `count` active webhook subscriptions (0: one per resource). */
export async function subscriptions(
  cluster: Cluster,
  connectionId: string,
  count = 0,
): Promise<number> {
  return eventually(
    async () => {
      const [{ n, resources }] = await cluster.pg.query<{ n: number; resources: number }>(
        `SELECT (SELECT count(*)::int FROM webhook_subscriptions
                  WHERE connection_id = $1 AND status = 'active') AS n,
                (SELECT count(*)::int FROM sync_states WHERE connection_id = $1) AS resources`,
        [connectionId],
      );
      const want = count || resources;
      return want > 0 && n === want ? n : undefined;
    },
    `webhook subscriptions of ${connectionId}`,
    60_000,
  );
}

/** Waits for a run of the connection to end; returns its status. */
export async function runOutcome(cluster: Cluster, syncRunId: string): Promise<string> {
  return eventually(
    async () => {
      const [run] = await cluster.pg.query<{ status: string }>(
        'SELECT status FROM sync_runs WHERE id = $1',
        [syncRunId],
      );
      return run && !['queued', 'running'].includes(run.status) ? run.status : undefined;
    },
    `sync run ${syncRunId}`,
    60_000,
  );
}

/**
 * Waits until every stored delivery is processed and no sync is queued or running, so that rows
 * counted afterwards change only through what the test does next.
 */
export async function quiet(cluster: Cluster): Promise<void> {
  await eventually(
    async () => {
      const [{ busy }] = await cluster.pg.query<{ busy: number }>(
        `SELECT (SELECT count(*)::int FROM webhook_deliveries WHERE status = 'received')
              + (SELECT count(*)::int FROM sync_runs WHERE status IN ('queued', 'running')) AS busy`,
      );
      return busy === 0 ? true : undefined;
    },
    'deliveries processed and syncs finished',
    60_000,
  );
}

/** The path of an OpenAPI operation with its `{params}` filled in. */
export function fillPath(path: string, params: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for path parameter {${name}} of ${path}`);
    return encodeURIComponent(value);
  });
}
