import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SCOPES, JiraFake, SANDBOX_JIRA_APP } from './jira.fake.js';
import { webhookFilterError } from './jql.js';
import { SEED_SITES } from './seed.js';

const APP = SANDBOX_JIRA_APP;
const ALICE = '5b10ac8d82e05b22cc7d4ef5';
let clock = Date.parse('2026-03-04T12:00:00Z');
let fake: JiraFake;
let token: string;

const api = (path: string, init: RequestInit & { token?: string; json?: unknown } = {}) =>
  fetch(`${fake.url}${path}`, {
    ...init,
    body: init.json === undefined ? init.body : JSON.stringify(init.json),
    headers: {
      authorization: `Bearer ${init.token ?? token}`,
      ...(init.json === undefined ? {} : { 'content-type': 'application/json' }),
    },
  });
const jira = (cloudId: string, path: string, init: Parameters<typeof api>[1] = {}) =>
  api(`/ex/jira/${cloudId}/rest/api/3${path}`, init);
const search = async (body: Record<string, unknown>, cloudId: string = SEED_SITES.pdeck) => {
  const res = await jira(cloudId, '/search/jql', { method: 'POST', json: body });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};
const keys = async (jql: string, cloudId?: string) => {
  const r = await search({ jql, fields: ['summary'], maxResults: 100 }, cloudId);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return (r.body.issues as Array<{ key: string }>).map((i) => i.key).sort();
};
const tokenCall = (body: Record<string, unknown>) =>
  fetch(`${fake.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: APP.clientId, client_secret: APP.clientSecret, ...body }),
  });

/** Verifies an HS256 JWT; returns the claims or undefined. */
function verifyJwt(jwt: string, secret: string): Record<string, unknown> | undefined {
  const [h, p, sig] = jwt.split('.');
  const expected = createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url');
  if (expected !== sig) return undefined;
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string };
  if (header.alg !== 'HS256') return undefined;
  return JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
}

/** A webhook receiver answering `statuses` in turn (then 200), recording every POST. */
async function receiver(statuses: number[] = []) {
  const posts: Array<{ headers: Record<string, unknown>; body: string }> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posts.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/jira`;
  return { url, posts, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A fresh access token for alice after the test clock jumps past the 1-hour lifetime. */
const renew = () => {
  token = fake.issueTokens('alice', DEFAULT_SCOPES).access_token;
};

beforeAll(async () => {
  fake = new JiraFake({ now: () => clock, webhooks: { baseDelayMs: 10 } });
  await fake.start();
  renew();
});
afterAll(() => fake.stop());

describe('OAuth 2.0 (3LO)', () => {
  const authorizeUrl = (extra: Record<string, string> = {}) =>
    `${fake.url}/authorize?${new URLSearchParams({
      audience: 'api.atlassian.com',
      client_id: APP.clientId,
      scope: DEFAULT_SCOPES.join(' '),
      redirect_uri: 'http://127.0.0.1:1/cb',
      state: 'xyz',
      response_type: 'code',
      prompt: 'consent',
      ...extra,
    })}`;

  it('authorize -> code -> JSON token exchange; refresh rotates; old token works within the leeway', async () => {
    const page = await fetch(authorizeUrl(), { redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Allow');
    const res = await fetch(authorizeUrl({ auto: 'allow', account: 'alice' }), {
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(back.searchParams.get('state')).toBe('xyz');
    const code = back.searchParams.get('code')!;

    // A form body is refused: Atlassian's token endpoint takes JSON.
    const form = await fetch(`${fake.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code }),
    });
    expect(form.status).toBe(415);

    const ex = await tokenCall({
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'http://127.0.0.1:1/cb',
    });
    expect(ex.status).toBe(200);
    const t1 = (await ex.json()) as Record<string, any>;
    expect(t1).toMatchObject({ token_type: 'bearer', expires_in: 3600 });
    expect(t1.scope).toBe(DEFAULT_SCOPES.join(' '));
    expect(t1.refresh_token).toBeTruthy();
    expect((await jira(SEED_SITES.pdeck, '/myself', { token: t1.access_token })).status).toBe(200);
    // The code is single use.
    const replay = await tokenCall({
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'http://127.0.0.1:1/cb',
    });
    expect(replay.status).toBe(403);

    const r2 = (await (
      await tokenCall({ grant_type: 'refresh_token', refresh_token: t1.refresh_token })
    ).json()) as Record<string, any>;
    expect(r2.refresh_token).toBeTruthy();
    expect(r2.refresh_token).not.toBe(t1.refresh_token);
    // Reuse of the rotated token 5 minutes later: still inside the 10-minute leeway.
    clock += 5 * 60_000;
    const again = await tokenCall({ grant_type: 'refresh_token', refresh_token: t1.refresh_token });
    expect(again.status).toBe(200);
  });

  it('the consent page posts a decision: Allow picks the account, Deny redirects with access_denied', async () => {
    const page = await (await fetch(authorizeUrl())).text();
    const request = /name="request" value="([^"]+)"/.exec(page)![1];
    const decide = (decision: string, req: string) =>
      fetch(`${fake.url}/authorize/decision`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ request: req, decision, account: 'bob' }),
        redirect: 'manual',
      });
    const allowed = new URL((await decide('allow', request)).headers.get('location')!);
    const t = (await (
      await tokenCall({
        grant_type: 'authorization_code',
        code: allowed.searchParams.get('code'),
        redirect_uri: 'http://127.0.0.1:1/cb',
      })
    ).json()) as { access_token: string };
    const sites = (await (
      await api('/oauth/token/accessible-resources', { token: t.access_token })
    ).json()) as Array<{ id: string }>;
    expect(sites.map((x) => x.id)).toEqual([SEED_SITES.labs]);
    const page2 = await (await fetch(authorizeUrl())).text();
    const denied = await decide('deny', /name="request" value="([^"]+)"/.exec(page2)![1]);
    const back = new URL(denied.headers.get('location')!);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe('xyz');
  });

  it('reusing a rotated refresh token after the leeway revokes the whole family (403 invalid_grant)', async () => {
    const t1 = fake.issueTokens('alice', DEFAULT_SCOPES);
    const t2 = (await (
      await tokenCall({ grant_type: 'refresh_token', refresh_token: t1.refresh_token })
    ).json()) as Record<string, any>;
    clock += 11 * 60_000;
    const reuse = await tokenCall({ grant_type: 'refresh_token', refresh_token: t1.refresh_token });
    expect(reuse.status).toBe(403);
    expect(await reuse.json()).toMatchObject({ error: 'invalid_grant' });
    // The newest refresh token and the family's access tokens die with it.
    const latest = await tokenCall({
      grant_type: 'refresh_token',
      refresh_token: t2.refresh_token,
    });
    expect(latest.status).toBe(403);
    expect((await jira(SEED_SITES.pdeck, '/myself', { token: t2.access_token })).status).toBe(401);
    // Another family (the suite's token) is untouched.
    expect((await jira(SEED_SITES.pdeck, '/myself')).status).toBe(200);
  });

  it('access tokens expire; no refresh token without offline_access; audience is required', async () => {
    const short = new JiraFake({ accessTokenTtlSec: 60, now: () => clock });
    await short.start();
    try {
      const t = short.issueTokens('alice', ['read:jira-work', 'read:jira-user']);
      expect(t.refresh_token).toBeUndefined();
      const me = () =>
        fetch(`${short.url}/ex/jira/${SEED_SITES.pdeck}/rest/api/3/myself`, {
          headers: { authorization: `Bearer ${t.access_token}` },
        });
      expect((await me()).status).toBe(200);
      clock += 61_000;
      expect((await me()).status).toBe(401);
      const noAud = await fetch(
        `${short.url}/authorize?client_id=${APP.clientId}&redirect_uri=http://x/cb&scope=read:jira-work&response_type=code&auto=allow`,
        { redirect: 'manual' },
      );
      expect(noAud.status).toBe(400);
    } finally {
      await short.stop();
    }
  });
});

describe('sites and identity', () => {
  it('accessible-resources lists the Confluence site first, then the two Jira sites; bob sees one', async () => {
    const res = await api('/oauth/token/accessible-resources');
    const sites = (await res.json()) as Array<Record<string, any>>;
    expect(sites.map((s) => s.id)).toEqual([SEED_SITES.wiki, SEED_SITES.pdeck, SEED_SITES.acme]);
    expect(sites[1]).toMatchObject({ name: 'pdeck', url: 'https://pdeck.atlassian.net' });
    expect(sites[1].scopes).toContain('read:jira-work');
    expect(Object.keys(sites[1]).sort()).toEqual(['avatarUrl', 'id', 'name', 'scopes', 'url']);
    const bob = fake.issueTokens('bob', DEFAULT_SCOPES).access_token;
    const bobSites = (await (
      await api('/oauth/token/accessible-resources', { token: bob })
    ).json()) as Array<{ id: string }>;
    expect(bobSites.map((s) => s.id)).toEqual([SEED_SITES.labs]);
    expect((await jira(SEED_SITES.pdeck, '/myself', { token: bob })).status).toBe(401);
    expect((await jira(SEED_SITES.labs, '/myself', { token: bob })).status).toBe(200);
  });

  it('the Confluence cloud id answers 401 scope does not match; myself answers the account', async () => {
    const res = await jira(SEED_SITES.wiki, '/myself');
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ code: 401, message: 'Unauthorized; scope does not match' });
    const me = (await (await jira(SEED_SITES.pdeck, '/myself')).json()) as Record<string, any>;
    expect(me).toMatchObject({
      accountId: ALICE,
      displayName: 'Alice Example',
      emailAddress: 'alice@example.com',
    });
  });
});

describe('enhanced search', () => {
  it('pages with nextPageToken until isLast; the token key is absent on the last page', async () => {
    const jql = 'assignee = currentUser() ORDER BY updated ASC';
    const seen: string[] = [];
    let next: string | undefined;
    let pages = 0;
    do {
      const r = await search({
        jql,
        fields: ['summary', 'updated'],
        maxResults: 4,
        nextPageToken: next,
      });
      expect(r.status).toBe(200);
      pages++;
      seen.push(...r.body.issues.map((i: { key: string }) => i.key));
      next = r.body.nextPageToken;
      expect(r.body.isLast).toBe(next === undefined);
      expect('total' in r.body).toBe(false);
    } while (next);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(9);
    expect(new Set(seen).size).toBe(9);
  });

  it('without fields answers ids only; with fields answers the documented shapes', async () => {
    const bare = await search({ jql: 'project = PD' });
    expect(Object.keys(bare.body.issues[0])).toEqual(['id']);
    const full = await search({
      jql: 'key = PD-1',
      fields: [
        'summary',
        'status',
        'description',
        'assignee',
        'duedate',
        'labels',
        'priority',
        'issuetype',
        'project',
        'reporter',
        'created',
        'updated',
      ],
    });
    const issue = full.body.issues[0];
    expect(issue).toMatchObject({
      id: '10000',
      key: 'PD-1',
      self: `https://api.atlassian.com/ex/jira/${SEED_SITES.pdeck}/rest/api/3/issue/10000`,
    });
    expect(issue.fields.status).toMatchObject({
      name: 'In Progress',
      statusCategory: { key: 'indeterminate' },
    });
    expect(issue.fields.description.type).toBe('doc');
    expect(JSON.stringify(issue.fields.description)).toMatch(/bulletList.*mention/s);
    expect(issue.fields.assignee.accountId).toBe(ALICE);
    expect(issue.fields.duedate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(issue.fields.updated).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);
    expect(issue.fields.project).toMatchObject({ key: 'PD', name: 'PDeck' });
  });

  it('evaluates each clause', async () => {
    expect(await keys('assignee = currentUser() AND project = OPS')).toEqual([
      'OPS-1',
      'OPS-2',
      'OPS-4',
    ]);
    expect(await keys(`assignee = "${ALICE}" AND project = OPS`)).toEqual([
      'OPS-1',
      'OPS-2',
      'OPS-4',
    ]);
    expect(await keys('project in (OPS) AND statusCategory = Done')).toEqual(['OPS-3']);
    expect(await keys('project = OPS AND statusCategory != Done')).toEqual([
      'OPS-1',
      'OPS-2',
      'OPS-4',
    ]);
    expect(
      await keys(
        '(project = PD AND statusCategory = Done) OR (project = OPS AND assignee != currentUser())',
      ),
    ).toEqual(['OPS-3', 'PD-3', 'PD-8']);
    expect(await keys('project = ACME AND statusCategory = Done', SEED_SITES.acme)).toEqual([
      'ACME-2',
      'ACME-5',
    ]);
  });

  it('updated >= is read in the user time zone and ORDER BY sorts', async () => {
    // Seed anchor = 12:00Z at construction; OPS-4 was updated 14 h before (22:00Z the day before),
    // which is 23:00 in Berlin.
    const fresh = new JiraFake({ now: () => Date.parse('2026-03-04T12:00:00Z') });
    await fresh.start();
    try {
      const t = fresh.issueTokens('alice', DEFAULT_SCOPES).access_token;
      const run = async (jql: string) => {
        const res = await fetch(`${fresh.url}/ex/jira/${SEED_SITES.pdeck}/rest/api/3/search/jql`, {
          method: 'POST',
          headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
          body: JSON.stringify({ jql, fields: ['updated'] }),
        });
        return ((await res.json()) as { issues: Array<{ key: string }> }).issues.map((i) => i.key);
      };
      expect(
        await run('project = OPS AND updated >= "2026-03-03 23:00" ORDER BY updated DESC'),
      ).toEqual(['OPS-4']);
      expect(await run('project = OPS AND updated >= "2026-03-03 23:01"')).toEqual([]);
      expect(
        await run('project = OPS AND updated >= "2026-03-03 19:00" ORDER BY updated ASC'),
      ).toEqual(['OPS-3', 'OPS-4']);
      expect(
        await run('project = OPS AND updated >= "2026-03-03 19:00" ORDER BY updated DESC'),
      ).toEqual(['OPS-4', 'OPS-3']);
      expect(
        await run('project = OPS AND updated >= "2026-03-03 19:00" ORDER BY updated ASC, id ASC'),
      ).toEqual(['OPS-3', 'OPS-4']);
      // ACME-6 was updated at 06:00Z: 07:00 for Alice (Europe/Berlin), 01:00 on the New York site.
      const acme = async (jql: string, fake2 = fresh, t2 = t) => {
        const res = await fetch(`${fake2.url}/ex/jira/${SEED_SITES.acme}/rest/api/3/search/jql`, {
          method: 'POST',
          headers: { authorization: `Bearer ${t2}`, 'content-type': 'application/json' },
          body: JSON.stringify({ jql, fields: ['updated'] }),
        });
        return ((await res.json()) as { issues: Array<{ key: string }> }).issues.map((i) => i.key);
      };
      expect(await acme('project = ACME AND updated >= "2026-03-04 07:00"')).toEqual(['ACME-6']);
      expect(await acme('project = ACME AND updated >= "2026-03-04 07:01"')).toEqual([]);
      const bySite = new JiraFake({
        now: () => Date.parse('2026-03-04T12:00:00Z'),
        jqlDateZone: 'site',
      });
      await bySite.start();
      try {
        const t2 = bySite.issueTokens('alice', DEFAULT_SCOPES).access_token;
        expect(await acme('project = ACME AND updated >= "2026-03-04 01:00"', bySite, t2)).toEqual([
          'ACME-6',
        ]);
        expect(await acme('project = ACME AND updated >= "2026-03-04 01:01"', bySite, t2)).toEqual(
          [],
        );
      } finally {
        await bySite.stop();
      }
    } finally {
      await fresh.stop();
    }
  });

  it('refuses unbounded and unsupported JQL with 400 and Jira error bodies; old search is 410', async () => {
    const unbounded = await search({ jql: 'order by key desc' });
    expect(unbounded.status).toBe(400);
    expect(unbounded.body.errorMessages[0]).toMatch(/Unbounded JQL/);
    const bad = await search({ jql: 'summary ~ "crash"' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ errors: {} });
    expect(bad.body.errorMessages).toHaveLength(1);
    expect((await search({ jql: 'priority = High' })).status).toBe(400);
    expect((await search({ jql: 'updated >= "yesterday"' })).status).toBe(400);
    for (const path of ['/rest/api/3/search', '/rest/api/2/search']) {
      const res = await api(`/ex/jira/${SEED_SITES.pdeck}${path}?jql=project%3DPD`);
      expect(res.status).toBe(410);
      expect(((await res.json()) as { errorMessages: string[] }).errorMessages[0]).toMatch(
        /search\/jql/,
      );
    }
  });
});

describe('dynamic webhooks', () => {
  it('registers with a per-entry error, delivers JWT-signed payloads, lists, refreshes and deletes', async () => {
    const rx = await receiver();
    try {
      const reg = await jira(SEED_SITES.pdeck, '/webhook', {
        method: 'POST',
        json: {
          url: rx.url,
          webhooks: [
            {
              events: ['jira:issue_created', 'jira:issue_updated', 'jira:issue_deleted'],
              jqlFilter: 'project in (PD, OPS)',
            },
            { events: ['jira:issue_updated'], jqlFilter: 'project is not EMPTY' },
            {
              events: ['jira:issue_updated'],
              jqlFilter: 'project = PD',
              fieldIdsFilter: ['duedate'],
            },
          ],
        },
      });
      expect(reg.status).toBe(200);
      const results = (
        (await reg.json()) as { webhookRegistrationResult: Array<Record<string, any>> }
      ).webhookRegistrationResult;
      expect(results[0].createdWebhookId).toEqual(expect.any(Number));
      expect(results[1].errors[0]).toMatch(/operator/i);
      expect(results[2].createdWebhookId).toEqual(expect.any(Number));
      const [id1, id3] = [results[0].createdWebhookId, results[2].createdWebhookId];

      // Only one URL per app.
      const other = await jira(SEED_SITES.pdeck, '/webhook', {
        method: 'POST',
        json: {
          url: 'https://elsewhere.test/h',
          webhooks: [{ events: ['jira:issue_created'], jqlFilter: 'project = PD' }],
        },
      });
      expect(other.status).toBe(400);

      const created = fake.createIssue(SEED_SITES.pdeck, {
        project: 'PD',
        summary: 'From the test',
        assignee: 'alice',
      });
      fake.updateIssue(SEED_SITES.pdeck, created.key, { duedate: '2026-03-20' });
      fake.updateIssue(SEED_SITES.pdeck, created.key, { summary: 'Renamed' });
      fake.deleteIssue(SEED_SITES.pdeck, created.key);
      fake.createIssue(SEED_SITES.acme, { project: 'ACME', summary: 'Other site, no webhook' });
      await fake.whenIdle();
      const bodies = rx.posts.map((p) => JSON.parse(p.body) as Record<string, any>);
      expect(bodies.map((b) => b.webhookEvent)).toEqual([
        'jira:issue_created',
        'jira:issue_updated',
        'jira:issue_updated',
        'jira:issue_deleted',
      ]);
      expect(bodies[1].matchedWebhookIds).toEqual([id1, id3]);
      expect(bodies[2].matchedWebhookIds).toEqual([id1]);
      expect(bodies[1].changelog.items[0]).toMatchObject({
        field: 'duedate',
        toString: '2026-03-20',
      });
      expect(bodies[0]).toMatchObject({
        timestamp: clock,
        issue: { key: created.key, fields: { summary: 'From the test' } },
      });
      expect(bodies[3].issue.fields.summary).toBe('Renamed');
      // Deliveries carry the site's own URL in issue.self (receivers route on its origin).
      expect(bodies[0].issue.self).toBe(
        `https://pdeck.atlassian.net/rest/api/3/issue/${created.id}`,
      );

      const first = rx.posts[0].headers;
      expect(first['x-atlassian-webhook-identifier']).toBeTruthy();
      expect(new Set(rx.posts.map((p) => p.headers['x-atlassian-webhook-identifier'])).size).toBe(
        4,
      );
      const jwt = String(first.authorization).replace(/^Bearer /, '');
      const claims = verifyJwt(jwt, APP.clientSecret);
      expect(claims).toBeDefined();
      expect(claims!.exp).toBeGreaterThan(Math.floor(clock / 1000));
      expect(verifyJwt(jwt, 'not-the-client-secret')).toBeUndefined();

      const list = (await (await jira(SEED_SITES.pdeck, '/webhook')).json()) as Record<string, any>;
      expect(list.values.map((v: { id: number }) => v.id)).toEqual([id1, id3]);
      expect(list.values[0].expirationDate).toBe(clock + 30 * 86_400_000);
      clock += 86_400_000;
      renew();
      const refreshed = (await (
        await jira(SEED_SITES.pdeck, '/webhook/refresh', {
          method: 'PUT',
          json: { webhookIds: [id1] },
        })
      ).json()) as Record<string, any>;
      expect(refreshed.expirationDate).toBe(clock + 30 * 86_400_000);
      // Unrefreshed webhooks expire after 30 days.
      clock += 29 * 86_400_000 + 1;
      renew();
      const later = (await (await jira(SEED_SITES.pdeck, '/webhook')).json()) as Record<
        string,
        any
      >;
      expect(later.values.map((v: { id: number }) => v.id)).toEqual([id1]);
      const del = await jira(SEED_SITES.pdeck, '/webhook', {
        method: 'DELETE',
        json: { webhookIds: [id1] },
      });
      expect(del.status).toBe(202);
      expect(
        ((await (await jira(SEED_SITES.pdeck, '/webhook')).json()) as { values: unknown[] }).values,
      ).toEqual([]);
    } finally {
      await rx.close();
    }
  });

  it('accepts only the restricted jqlFilter grammar', () => {
    for (const ok of [
      'project = PD',
      'project in (PD, OPS) AND issuetype != Bug',
      'issueKey = PD-1 OR (status = "In Progress" AND assignee = 5b10ac8d82e05b22cc7d4ef5)',
      'project not in (OPS) and reporter = abc',
      'cf[10014] = EPIC-1',
    ])
      expect(webhookFilterError(ok), ok).toBeUndefined();
    for (const bad of [
      '',
      'project is not EMPTY',
      'assignee = currentUser()',
      'updated >= -1d',
      'summary = x',
      'project = PD ORDER BY key',
      'project = (',
    ])
      expect(webhookFilterError(bad), bad).toEqual(expect.any(String));
  });

  it('skips issues outside the filter and retries a 503 with the same identifier and JWT', async () => {
    const own = new JiraFake({ now: () => clock, webhooks: { baseDelayMs: 5 } });
    await own.start();
    const rx = await receiver([503]);
    try {
      const t = own.issueTokens('alice', DEFAULT_SCOPES).access_token;
      const reg = await fetch(`${own.url}/ex/jira/${SEED_SITES.pdeck}/rest/api/3/webhook`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          url: rx.url,
          webhooks: [{ events: ['jira:issue_created'], jqlFilter: 'project = OPS' }],
        }),
      });
      expect(reg.status).toBe(200);
      own.createIssue(SEED_SITES.pdeck, { project: 'PD', summary: 'not matched' });
      own.createIssue(SEED_SITES.pdeck, { project: 'OPS', summary: 'matched' });
      await own.whenIdle();
      expect(rx.posts).toHaveLength(2);
      expect(JSON.parse(rx.posts[1].body).issue.fields.summary).toBe('matched');
      const [a, b] = rx.posts.map((p) => p.headers);
      expect(a['x-atlassian-webhook-identifier']).toBe(b['x-atlassian-webhook-identifier']);
      expect(a.authorization).toBe(b.authorization);
      expect(own.deliveries().map((d) => d.status)).toEqual([503, 200]);
    } finally {
      await rx.close();
      await own.stop();
    }
  });

  it('needs manage:jira-webhook and read:jira-work', async () => {
    const weak = fake.issueTokens('alice', ['manage:jira-webhook']).access_token;
    const res = await jira(SEED_SITES.pdeck, '/webhook', { token: weak });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ message: 'Unauthorized; scope does not match' });
  });
});

describe('admin API, GET search and GET issue', () => {
  it('GET issue answers the issue by id or key, and 404 once deleted', async () => {
    const created = fake.createIssue(SEED_SITES.acme, { project: 'ACME', summary: 'Short-lived' });
    const byId = (await (
      await jira(SEED_SITES.acme, `/issue/${created.id}?fields=id`)
    ).json()) as Record<string, any>;
    expect(byId).toMatchObject({ id: created.id, key: created.key });
    const byKey = (await (await jira(SEED_SITES.acme, `/issue/${created.key}`)).json()) as Record<
      string,
      any
    >;
    expect(byKey.fields.summary).toBe('Short-lived');
    fake.deleteIssue(SEED_SITES.acme, created.key);
    const gone = await jira(SEED_SITES.acme, `/issue/${created.id}?fields=id`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({
      errorMessages: [expect.stringMatching(/does not exist/)],
    });
  });

  it('creates an issue over /__admin and finds it with GET search/jql', async () => {
    const res = await fetch(`${fake.url}/__admin/sites/${SEED_SITES.acme}/issues`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        project: 'ACME',
        summary: 'Via admin',
        assignee: 'alice',
        duedate: '2026-04-01',
      }),
    });
    expect(res.status).toBe(201);
    const { key } = (await res.json()) as { key: string };
    const q = new URLSearchParams({ jql: `key = ${key}`, fields: 'summary,duedate' });
    const found = (await (await jira(SEED_SITES.acme, `/search/jql?${q}`)).json()) as Record<
      string,
      any
    >;
    expect(found.issues).toEqual([
      expect.objectContaining({ key, fields: { summary: 'Via admin', duedate: '2026-04-01' } }),
    ]);
    expect(found.isLast).toBe(true);
    const state = (await (await fetch(`${fake.url}/__admin/state`)).json()) as Record<string, any>;
    expect(state.sites).toHaveLength(4);
    expect(state.issues.some((i: { key: string }) => i.key === key)).toBe(true);
    const stats = (await (await fetch(`${fake.url}/__admin/stats`)).json()) as Record<string, any>;
    expect(stats.jira.apiCalls['GET /rest/api/3/search/jql']).toBeGreaterThan(0);
  });
});

describe('rate limits', () => {
  it('rateLimitNext answers 429 with Retry-After and the X-RateLimit headers, then recovers', async () => {
    fake.rateLimitNext(1, 'jira-burst-based', 7);
    const res = await jira(SEED_SITES.pdeck, '/myself');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.headers.get('x-ratelimit-reset')).toBe(
      new Date(clock + 7000).toISOString().slice(0, 16) + 'Z',
    );
    expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(res.headers.get('x-ratelimit-limit')).toBeTruthy();
    expect(res.headers.get('x-ratelimit-nearlimit')).toBe('true');
    expect(res.headers.get('ratelimit-reason')).toBe('jira-burst-based');
    expect((await jira(SEED_SITES.pdeck, '/myself')).status).toBe(200);
  });
});
