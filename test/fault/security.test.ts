import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleCalendarFake } from '../../sandbox/google-calendar/google-calendar.fake.js';
import { SANDBOX_TRELLO_APP, TrelloFake } from '../../sandbox/trello/trello.fake.js';
import { CLUSTER_API_TOKEN, Cluster } from '../harness/cluster.js';
import { connectThroughConsent } from '../harness/connect.js';
import { collectSecrets, scanForSecrets } from '../harness/leak-scan.js';
import {
  callbackAttacks,
  googlePushAttacks,
  signedTrelloAttacks,
  webhookAttacks,
  type Attack,
} from './security-attacks.js';
import { internalAttacks } from './security-internal-attacks.js';
import {
  EXPECTED_PUBLIC,
  GUARD_MESSAGE,
  Recorder,
  fillPath,
  initialSync,
  quiet,
  rowCount,
  runOutcome,
  securityEnv,
  subscriptions,
} from './security-kit.js';

const ALICE = 'alice@example.com';
const USER = 'security-user';
const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'] as const;

// Every internal route needs the bearer token, bad input is refused with a 4xx (never a 5xx),
// and no token or secret the providers issued shows up in logs, responses, Redis or Postgres.
describe('security sweep: auth on every route, hostile input, no secret anywhere', () => {
  // Access tokens live 4 min, inside the 5 min refresh margin: every use of one refreshes it.
  const google = new GoogleCalendarFake({ accessTokenTtlSec: 240 });
  const trello = new TrelloFake({ webhooks: { baseDelayMs: 50 } });
  let cluster: Cluster;
  let rec: Recorder;
  let googleId = '';
  let trelloId = '';
  const figures = { routes: 0, attacks: 0 };

  beforeAll(async () => {
    await Promise.all([google.start(), trello.start()]);
    cluster = await new Cluster({ env: securityEnv(google, trello) }).start();
    rec = new Recorder(cluster);
  });
  afterAll(async () => {
    await cluster?.stop();
    await Promise.all([google.stop(), trello.stop()]);
  });

  /** Runs a table of attacks; returns the ones whose answer was not what the table expects. */
  async function run(attacks: Attack[], authenticated = false): Promise<string[]> {
    const wrong: string[] = [];
    for (const a of attacks) {
      const { status, text } = authenticated
        ? await rec.internal(a.label, a.path, a.init)
        : await rec.send(a.label, a.path, a.init);
      if (status !== a.expect)
        wrong.push(`${a.label}: ${status} (want ${a.expect}) ${text.slice(0, 120)}`);
    }
    figures.attacks += attacks.length;
    return wrong;
  }

  it('connects Google and Trello through consent, syncs, subscribes and refreshes', async () => {
    googleId = await connectThroughConsent(cluster, 'google-calendar', USER, { account: ALICE });
    trelloId = await connectThroughConsent(cluster, 'trello', USER, { account: 'alice' });
    await Promise.all([initialSync(cluster, googleId), initialSync(cluster, trelloId)]);
    expect(await subscriptions(cluster, googleId)).toBeGreaterThan(0);
    expect(await subscriptions(cluster, trelloId, 2)).toBe(2); // Alice's two open boards

    // A refresh with the real refresh token, then a sync on the new access token.
    const refreshes = () =>
      (google.oauth.stats().tokenRequests as Record<string, number>).refresh_token ?? 0;
    const before = refreshes();
    google.oauth.tokens.expireAccessTokens(ALICE);
    const sync = await rec.internal('sync google', `/v1/connections/${googleId}/sync`, {
      method: 'POST',
      body: '{"mode":"incremental"}',
    });
    expect(sync.status).toBe(202);
    const { syncRunId } = JSON.parse(sync.text) as { syncRunId: string };
    expect(await runOutcome(cluster, syncRunId)).toBe('succeeded');
    expect(refreshes()).toBeGreaterThan(before);

    // Real deliveries with their secrets in flight: a Google push (channel token), a Trello
    // webhook (signed with the app secret).
    google.createEvent(ALICE, ALICE, { summary: 'Security review' });
    trello.updateCard(trello.seed!.cards.release, { name: 'Release, reviewed' });
    await Promise.all([google.whenIdle(), trello.whenIdle()]);
    const [{ n }] = await cluster.pg.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM webhook_deliveries WHERE delivery_id NOT LIKE '%:sync'",
    );
    expect(n).toBeGreaterThanOrEqual(2);

    // What other services read: recorded for the leak scan.
    for (const path of [
      `/v1/connections?userId=${USER}`,
      `/v1/connections/${googleId}`,
      `/v1/connections/${trelloId}/sync-runs`,
      `/v1/items?userId=${USER}&includeRaw=true&limit=1000`,
      '/metrics',
    ]) {
      expect((await rec.internal(`read ${path}`, path)).status).toBe(200);
    }
  });

  it('refuses every documented operation without a valid bearer token, except the public ones', async () => {
    // In production the docs need the token too.
    expect((await rec.send('openapi', '/docs/json')).status).toBe(401);
    const docs = await rec.internal('openapi', '/docs/json');
    expect(docs.status).toBe(200);
    const document = JSON.parse(docs.text) as { paths: Record<string, Record<string, unknown>> };
    const params = { id: googleId, provider: 'google-calendar' };
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      METHODS.filter((m) => m in item).map((m) => ({ method: m.toUpperCase(), path })),
    );
    expect(operations.length).toBeGreaterThan(10);
    figures.routes = operations.length;

    const open: string[] = [];
    const wrongBearer: string[] = [];
    const badTokens = [
      'Bearer wrong-token-0123456789abcdef0123',
      `Bearer ${CLUSTER_API_TOKEN}x`,
      `Bearer ${CLUSTER_API_TOKEN.slice(0, -1)}`,
      `Basic ${Buffer.from(`x:${CLUSTER_API_TOKEN}`).toString('base64')}`,
      'Bearer',
      CLUSTER_API_TOKEN,
    ];
    for (const { method, path } of operations) {
      const url = fillPath(path, params);
      const init = (authorization?: string): RequestInit => ({
        method,
        headers: { 'content-type': 'application/json', ...(authorization && { authorization }) },
        body: ['GET', 'HEAD'].includes(method) ? undefined : '{"mode":"full","userId":"u"}',
      });
      const guarded = (a: { status: number; text: string }) =>
        a.status === 401 && (method === 'HEAD' || a.text.includes(GUARD_MESSAGE));
      const bare = await rec.send(`${method} ${path}`, url, init());
      if (!guarded(bare)) {
        open.push(`${method} ${path}`);
        continue;
      }
      // Credentials in the wrong place or slightly wrong: still refused by the guard.
      for (const authorization of badTokens) {
        const answer = await rec.send(`${method} ${path} (bad bearer)`, url, init(authorization));
        if (!guarded(answer))
          wrongBearer.push(`${method} ${path} with "${authorization}": ${answer.status}`);
      }
      const inQuery = `${url}${url.includes('?') ? '&' : '?'}access_token=${CLUSTER_API_TOKEN}`;
      if (!guarded(await rec.send(`${method} ${path} (token in query)`, inQuery, init())))
        wrongBearer.push(`${method} ${path} with the token in the query`);
    }
    expect(open.sort()).toEqual(EXPECTED_PUBLIC);
    expect(wrongBearer).toEqual([]);
    // Pages outside the document: in production the docs and /metrics need the token.
    expect((await rec.send('swagger ui', '/docs')).status).toBe(401);
    expect((await rec.internal('swagger ui', '/docs')).status).toBe(200);
    expect((await rec.send('/metrics', '/metrics')).status).toBe(401);
    // The operator console without its session: pages send the browser to the sign-in form,
    // the queue dashboard's API and every console action answer 401.
    for (const path of ['/admin', '/admin/connections', '/admin/issues', '/admin/queues']) {
      const page = await fetch(`${cluster.baseUrl}${path}`, { redirect: 'manual' });
      expect([page.status, page.headers.get('location')], path).toEqual([303, '/admin/sign-in']);
    }
    expect((await rec.send('/admin/queues/api/queues', '/admin/queues/api/queues')).status).toBe(
      401,
    );
    const action = await fetch(`${cluster.baseUrl}/admin/connections/${googleId}/sync`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'csrf=x',
      redirect: 'manual',
    });
    expect(action.status).toBe(401);
  });

  it('answers hostile input on public routes with a 4xx and stores nothing', async () => {
    const tables = ['webhook_deliveries', 'connections', 'sync_runs'];
    await quiet(cluster);
    const before = await Promise.all(tables.map((t) => rowCount(cluster, t)));
    const [channel] = await cluster.pg.query<{ id: string; resourceId: string }>(
      `SELECT external_id AS id, external_resource_id AS "resourceId" FROM webhook_subscriptions
        WHERE connection_id = $1 AND status = 'active' LIMIT 1`,
      [googleId],
    );
    // The channel token is ours; Google's fake saw it when the service opened the channel.
    const token = google.channels.get(channel.id)!.token!;
    const wrong = [
      ...(await run(webhookAttacks())),
      ...(await run(
        signedTrelloAttacks(`${cluster.baseUrl}/v1/webhooks/trello`, SANDBOX_TRELLO_APP.secret),
      )),
      ...(await run(googlePushAttacks({ ...channel, token }))),
      ...(await run(callbackAttacks())),
    ];
    expect(wrong).toEqual([]);
    expect(rec.serverErrors).toEqual([]);
    // A delivery is stored before it is acknowledged, so any row these requests made exists by
    // now; wait until every stored delivery is processed and every sync it asked for has ended,
    // so a wrongly accepted one would also show as a run.
    await quiet(cluster);
    expect(await Promise.all(tables.map((t) => rowCount(cluster, t)))).toEqual(before);
    expect((await rec.send('HEAD probe', '/v1/webhooks/trello', { method: 'HEAD' })).status).toBe(
      200,
    );
    for (const path of ['/health/live?%ff=1&x[y]=2', '/health/ready']) {
      expect((await rec.send(path, path)).status).toBe(200);
    }
    expect(cluster.processes.every((p) => p.running)).toBe(true);
  });

  it('answers malformed input on internal routes with 400, never a 5xx', async () => {
    const before = await Promise.all(['connections', 'sync_runs'].map((t) => rowCount(cluster, t)));
    expect(await run(internalAttacks(googleId), true)).toEqual([]);
    expect(rec.serverErrors).toEqual([]);
    expect(
      await Promise.all(['connections', 'sync_runs'].map((t) => rowCount(cluster, t))),
    ).toEqual(before);
    const unknown = await rec.internal('unknown connection', `/v1/connections/${randomUUID()}`);
    expect(unknown.status).toBe(404);
  });

  it('disconnects: revokes at the provider (and survives a failing revoke)', async () => {
    const revocations = google.oauth.stats().revocations as number;
    const googleGone = await rec.internal('disconnect google', `/v1/connections/${googleId}`, {
      method: 'DELETE',
    });
    expect(googleGone.status).toBe(200);
    expect(JSON.parse(googleGone.text)).toMatchObject({ status: 'disconnected', lastError: null });
    expect(google.oauth.stats().revocations).toBe(revocations + 1);

    // Trello's DELETE /1/tokens/{token} carries the token in the path: make it fail, so the
    // error path (lastError, logs) handles a URL with a token in it.
    trello.server.addFault({ status: 500, path: '/1/tokens/', method: 'DELETE', times: 5 });
    const trelloGone = await rec.internal('disconnect trello', `/v1/connections/${trelloId}`, {
      method: 'DELETE',
    });
    expect(trelloGone.status).toBe(200);
    expect(JSON.parse(trelloGone.text)).toMatchObject({
      status: 'disconnected',
      lastError: expect.stringMatching(/^revoke_failed/),
    });
    const [row] = await cluster.pg.query<{ credentials: string | null }>(
      'SELECT credentials FROM connections WHERE id = $1',
      [trelloId],
    );
    expect(row.credentials).toBeNull();
  });

  it('leaks no issued token or secret into logs, responses, Redis or Postgres', async () => {
    // Secrets at rest are ciphertext: `v1.<kid>.<nonce>.<ciphertext>`.
    const stored = await cluster.pg.query<{ value: string }>(
      `SELECT credentials AS value FROM connections WHERE credentials IS NOT NULL
       UNION ALL SELECT secret FROM webhook_subscriptions WHERE secret IS NOT NULL`,
    );
    for (const { value } of stored) expect(value).toMatch(/^v1\.k1\.[\w-]+\.[\w-]+$/);

    const secrets = collectSecrets(
      [google, trello],
      [CLUSTER_API_TOKEN, cluster.encryptionKey.slice('k1:'.length)],
    );
    // Every kind the fakes hand out is in the list: client and app secrets, codes, access and
    // refresh tokens, Trello token secrets and verifiers, channel tokens.
    expect(secrets.filter((s) => s.startsWith('ya29.')).length).toBeGreaterThan(1);
    expect(secrets.filter((s) => s.startsWith('1//')).length).toBeGreaterThan(0);
    expect(secrets.filter((s) => s.startsWith('4/0')).length).toBeGreaterThan(0);
    expect(secrets).toContain(SANDBOX_TRELLO_APP.secret);
    expect(trello.oauth.counters.accessTokens).toBeGreaterThan(0);
    expect(google.channels.tokens().length).toBeGreaterThan(0);
    expect(secrets.length).toBeGreaterThan(10);

    // Control: the scanner does find what is there. A connection id (not a secret) is in the
    // logs, in Redis job data, in Postgres rows and in the recorded API responses.
    const control = await scanForSecrets(cluster, [googleId], rec.bodies);
    const kinds = new Set(control.findings.map((f) => f.where.split(' ')[0]));
    expect([...kinds].sort()).toEqual(['log', 'postgres', 'recorded', 'redis']);

    // No answer shows internals: stack frames or file system paths.
    const internals = rec.bodies.filter((b) => /node_modules|\/dist\/|\n\s+at \S/.test(b));
    expect(internals.map((b) => b.slice(0, 200))).toEqual([]);

    const scan = await scanForSecrets(cluster, secrets, rec.bodies);
    expect(scan.findings).toEqual([]);
    // The scan looked at real material: the processes logged, Redis and Postgres hold data.
    expect(scan.scanned.logLines).toBeGreaterThan(50);
    expect(scan.scanned.redisKeys).toBeGreaterThan(5);
    expect(scan.scanned.dbRows).toBeGreaterThan(20);
    const places = Object.values(scan.scanned).reduce((a, b) => a + b, 0) - scan.scanned.dbTables;
    console.log(
      `[figures] security sweep: ${figures.routes} documented operations checked for auth, ` +
        `${figures.attacks} hostile requests, ${rec.sent} requests sent in all ` +
        `(2xx ${rec.classes['2xx']}, 3xx ${rec.classes['3xx']}, 4xx ${rec.classes['4xx']}, ` +
        `5xx ${rec.classes['5xx']}); ${scan.secrets} secrets scanned across ${places} places ` +
        `(${scan.scanned.logLines} log lines, ${scan.scanned.redisKeys} Redis keys, ` +
        `${scan.scanned.dbRows} rows in ${scan.scanned.dbTables} tables, ` +
        `${scan.scanned.extra} recorded responses): ${scan.findings.length} findings`,
    );
  });
});
