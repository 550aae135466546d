// `npm run demo`: the service wired to the offline sandbox fakes, with seeded accounts.
// Starts the Google Calendar, Trello, Jira Cloud and Slack fakes in this process, then the built
// service as a child process whose PROVIDER_ORIGINS point every provider call (and every consent
// page) at them; once the service is ready, points the Slack fake's Events API at it.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import {
  GoogleCalendarFake,
  SANDBOX_GOOGLE_CLIENT,
} from '../dist/sandbox/google-calendar/index.js';
import { JiraFake, SANDBOX_JIRA_APP } from '../dist/sandbox/jira/index.js';
import { SANDBOX_SLACK_APP, SEED_SLACK, SlackFake } from '../dist/sandbox/slack/index.js';
import { SANDBOX_TRELLO_APP, TrelloFake } from '../dist/sandbox/trello/index.js';

const port = Number(process.env.PORT ?? 3000);
// Stands in for PDeck's backend: where the browser comes back after consent, and who confirms.
const pdeckPort = Number(process.env.DEMO_PDECK_PORT ?? 3099);
const pdeckUrl = `http://localhost:${pdeckPort}`;
const DEMO_USER = 'demo-user';
const publicUrl = process.env.PUBLIC_URL ?? `http://localhost:${port}`;
const google = new GoogleCalendarFake({ port: Number(process.env.SANDBOX_PORT ?? 9100) });
const trello = new TrelloFake({ port: Number(process.env.SANDBOX_TRELLO_PORT ?? 9101) });
const jira = new JiraFake({ port: Number(process.env.SANDBOX_JIRA_PORT ?? 9102) });
// The service paces Slack history reads by SLACK_APP_DISTRIBUTION. The demo runs as an internal
// app (Tier 3: a first sync in seconds, not one call a minute per conversation) unless you chose
// otherwise; the fake grants the limits Slack would give that app.
const slackDistribution = process.env.SLACK_APP_DISTRIBUTION ?? 'internal';
const slack = new SlackFake({
  port: Number(process.env.SANDBOX_SLACK_PORT ?? 9103),
  historyTier: slackDistribution === 'non_marketplace' ? 'limited' : 'tier3',
});
const slackRequestUrl = `${publicUrl}/v1/webhooks/slack`;
const fakes = [google, trello, jira, slack];
await Promise.all(fakes.map((fake) => fake.start()));

const env = {
  ...process.env,
  // A development run whatever the shell holds: NODE_ENV unset with a DATABASE_URL would mean
  // production (tokens, keys and PUBLIC_URL required, PROVIDER_ORIGINS refused).
  NODE_ENV: process.env.NODE_ENV ?? 'development',
  // The sandbox is the point of the demo, also if NODE_ENV=production is asked for.
  ALLOW_PROVIDER_ORIGINS: 'true',
  PORT: String(port),
  PUBLIC_URL: publicUrl,
  PROVIDER_ORIGINS: JSON.stringify({
    ...google.origins(),
    ...trello.origins(),
    ...jira.origins(),
    ...slack.origins(),
  }),
  GOOGLE_CALENDAR_CLIENT_ID: SANDBOX_GOOGLE_CLIENT.clientId,
  GOOGLE_CALENDAR_CLIENT_SECRET: SANDBOX_GOOGLE_CLIENT.clientSecret,
  TRELLO_API_KEY: SANDBOX_TRELLO_APP.key,
  TRELLO_API_SECRET: SANDBOX_TRELLO_APP.secret,
  JIRA_CLIENT_ID: SANDBOX_JIRA_APP.clientId,
  JIRA_CLIENT_SECRET: SANDBOX_JIRA_APP.clientSecret,
  SLACK_CLIENT_ID: SANDBOX_SLACK_APP.clientId,
  SLACK_CLIENT_SECRET: SANDBOX_SLACK_APP.clientSecret,
  SLACK_SIGNING_SECRET: SANDBOX_SLACK_APP.signingSecret,
  SLACK_APP_DISTRIBUTION: slackDistribution,
  RETURN_TO_ORIGINS: process.env.RETURN_TO_ORIGINS ?? `${new URL(publicUrl).origin},${pdeckUrl}`,
};

/** `alice: pdeck, acme-sandbox (2 Jira sites: choose one after connecting)`, per seeded account. */
function jiraAccounts() {
  return jira.data.accounts.map((account) => {
    const sites = jira.data.sites.filter(
      (s) => s.product === 'jira' && s.members.includes(account.accountId),
    );
    const names = sites.map((s) => s.name).join(', ');
    const note =
      sites.length > 1
        ? `${sites.length} Jira sites: choose one after connecting`
        : 'one Jira site';
    return `${account.handle}: ${names} (${note})`;
  });
}

console.log(`Sandbox: Google Calendar ${google.url} (alice@example.com, bob@example.com), Trello ${trello.url} (alice, bob)
         Jira Cloud ${jira.url}: ${jiraAccounts().join('; ')}
         Slack ${slack.url}: workspace ${SEED_SLACK.team.name} (${SEED_SLACK.consentingAccounts.join(', ')})
Connect an account:
  curl -s -X POST ${publicUrl}/v1/connections/google-calendar/authorize \\
    -H "Authorization: Bearer $(cat .data/internal-api-token)" -H 'content-type: application/json' \\
    -d '{"userId":"${DEMO_USER}","returnTo":"${pdeckUrl}/connected"}'
then open the authorizeUrl in a browser and click Allow. The browser comes back to ${pdeckUrl}/connected,
which confirms the grant for ${DEMO_USER} as PDeck's backend would; then read GET /v1/items?userId=${DEMO_USER}.
Use trello, jira or slack instead of google-calendar for the other fakes. A Jira account with several
Jira sites (alice) stays pending (site_required) until a site is chosen: the /connected page lists
them, or use the API:
  curl -s -H "Authorization: Bearer $(cat .data/internal-api-token)" ${publicUrl}/v1/connections/<id>/sites
  curl -s -X PUT ${publicUrl}/v1/connections/<id>/site \\
    -H "Authorization: Bearer $(cat .data/internal-api-token)" -H 'content-type: application/json' \\
    -d '{"cloudId":"<id of a listed site>"}'
Slack events: once the service is ready, the fake's Events API request URL is set to
${slackRequestUrl} (the service must answer its url_verification). The fake sends events
only for a workspace the app is installed in: connect a Slack account, then post a message as
alice in #general
  curl -s -X POST ${slack.url}/__admin/conversations/${SEED_SLACK.channels.general}/messages \\
    -H 'content-type: application/json' -d '{"user":"alice","text":"Hello from the demo"}'
and watch the signed event_callback arrive: ${slack.url}/__admin/events?limit=1 shows the delivery
and the service's answer, and the service counts it in webhook_deliveries_total{provider="slack"}:
  curl -s -H "Authorization: Bearer $(cat .data/internal-api-token)" ${publicUrl}/metrics | grep slack
`);

/** The internal API token: the first of INTERNAL_API_TOKENS, else the one the service generated. */
async function apiToken() {
  const configured = process.env.INTERNAL_API_TOKENS?.split(',')[0]?.trim();
  if (configured) return configured;
  return (
    await readFile(join(process.env.DATA_DIR ?? '.data', 'internal-api-token'), 'utf8')
  ).trim();
}

/** One call to the service's internal API: `{status, body}` (body null when it is not JSON). */
async function callService(method, path, body) {
  const answer = await fetch(`${publicUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await apiToken()}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // An error page or an empty body: the status says enough.
  }
  return { status: answer.status, body: json };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The part of PDeck's backend a connect flow needs: the browser lands on /connected with
 * connectionId and a one-time confirm token (or error); the backend, which knows its signed-in
 * user, confirms. A Jira grant that reaches several sites is then still pending: the page lists
 * the sites as a form that POSTs the choice to /choose-site, which sets it server-side.
 */
const pdeck = createServer((req, res) => {
  const url = new URL(req.url ?? '/', pdeckUrl);
  const send = (status, title, html) =>
    res
      .writeHead(status, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
      })
      .end(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
          `<body><main><h1>${escapeHtml(title)}</h1>${html}</main></body></html>`,
      );
  let handled;
  if (url.pathname === '/connected' && req.method === 'GET') handled = connected(url, send);
  else if (url.pathname === '/choose-site' && req.method === 'POST')
    handled = chooseSite(req, send);
  else if (url.pathname === '/choose-site') {
    return void res.writeHead(405, { allow: 'POST' }).end();
  } else return void res.writeHead(404).end();
  handled.catch((error) =>
    send(
      502,
      'Service unavailable',
      `<p>The integration service did not answer: ${escapeHtml(error.message)}.</p>`,
    ),
  );
});
pdeck.listen(pdeckPort, '127.0.0.1');

async function connected(url, send) {
  const error = url.searchParams.get('error');
  if (error) {
    return send(
      200,
      'Not connected',
      `<p>The provider or the service said: ${escapeHtml(error)}.</p>`,
    );
  }
  const id = url.searchParams.get('connectionId') ?? '';
  if (!UUID.test(id)) return send(400, 'Not connected', '<p>The link has no connection id.</p>');
  const { status, body } = await callService('POST', `/v1/connections/${id}/confirm`, {
    userId: DEMO_USER,
    token: url.searchParams.get('confirm') ?? '',
  });
  if (status !== 200) {
    return send(
      200,
      'Not connected',
      `<p>Confirmation refused (${status} ${escapeHtml(body?.error ?? '')}).</p>`,
    );
  }
  if (body.status === 'pending' && body.pendingReason === 'site_required') {
    return siteForm(id, body, send);
  }
  send(200, 'Connected', connectedText(body));
}

function connectedText(connection) {
  return (
    `<p>${escapeHtml(connection.provider)} account ${escapeHtml(connection.accountLabel ?? connection.accountId)} ` +
    `is now ${escapeHtml(connection.status)}; its first sync has started.</p>` +
    `<p>Items: <code>GET ${escapeHtml(`${publicUrl}/v1/items?userId=${DEMO_USER}`)}</code></p>`
  );
}

/** The sites of a `site_required` connection as a radio group; the choice is POSTed here. */
async function siteForm(id, connection, send) {
  const { status, body } = await callService('GET', `/v1/connections/${id}/sites`);
  if (status !== 200 || !Array.isArray(body)) {
    return send(
      200,
      'Choose a site',
      `<p>The sites could not be listed (${status} ${escapeHtml(body?.error ?? '')}).</p>`,
    );
  }
  const options = body
    .map(
      (site, i) =>
        `<div><input type="radio" name="cloudId" id="site-${i}" value="${escapeHtml(site.id)}" required${i === 0 ? ' checked' : ''}>` +
        ` <label for="site-${i}">${escapeHtml(site.name)}${site.url ? ` (${escapeHtml(site.url)})` : ''}</label></div>`,
    )
    .join('');
  send(
    200,
    'Choose a site',
    `<p>${escapeHtml(connection.provider)} account ${escapeHtml(connection.accountLabel ?? connection.accountId)} ` +
      `reaches several sites; a connection syncs one. Pick the site to sync.</p>` +
      `<form method="post" action="/choose-site">` +
      `<input type="hidden" name="connectionId" value="${escapeHtml(id)}">` +
      `<fieldset><legend>Site to sync</legend>${options}</fieldset>` +
      `<p><button type="submit">Sync this site</button></p></form>`,
  );
}

async function chooseSite(req, send) {
  const form = new URLSearchParams(await readBody(req, 4096));
  const id = form.get('connectionId') ?? '';
  const cloudId = form.get('cloudId') ?? '';
  if (!UUID.test(id) || !cloudId || cloudId.length > 200) {
    return send(400, 'Site not chosen', '<p>The form needs a connection and a site.</p>');
  }
  // The stand-in acts for DEMO_USER only: another user's connection is not its to change.
  const current = await callService('GET', `/v1/connections/${id}`);
  if (current.status !== 200 || current.body?.userId !== DEMO_USER) {
    return send(404, 'Site not chosen', '<p>No such connection for this user.</p>');
  }
  const { status, body } = await callService('PUT', `/v1/connections/${id}/site`, { cloudId });
  if (status !== 200) {
    const message = Array.isArray(body?.message) ? body.message.join('; ') : (body?.message ?? '');
    return send(
      200,
      'Site not chosen',
      `<p>The service refused the choice (${status} ${escapeHtml(body?.error ?? '')}): ${escapeHtml(message)}</p>`,
    );
  }
  send(200, 'Connected', connectedText(body));
}

/** The request body as text, refused beyond `limit` bytes. */
function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('request body too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const stopFakes = () => Promise.all(fakes.map((fake) => fake.stop()));
const service = spawn(process.execPath, ['dist/main.js'], { env, stdio: 'inherit' });
const stop = async () => {
  service.kill('SIGTERM');
  pdeck.close();
  await stopFakes();
};
process.once('SIGINT', () => void stop().then(() => process.exit(0)));
process.once('SIGTERM', () => void stop().then(() => process.exit(0)));
service.once('exit', (code) => {
  pdeck.close();
  void stopFakes().then(() => process.exit(code ?? 0));
});

/** Polls GET /health/ready until it answers 200; false if the service exits or 2 minutes pass. */
async function serviceReady() {
  const deadline = Date.now() + 120_000;
  while (service.exitCode === null && service.signalCode === null && Date.now() < deadline) {
    try {
      if ((await fetch(`${publicUrl}/health/ready`)).ok) return true;
    } catch {
      // Not listening yet (the embedded Postgres and the migrations come first).
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

// Slack keeps a request URL only once it answered url_verification, so this waits for the service.
if (await serviceReady()) {
  const { ok, status } = await slack.setRequestUrl(slackRequestUrl);
  console.log(
    ok
      ? `Slack Events API request URL set: ${slackRequestUrl} answered url_verification.`
      : `Slack Events API request URL not set: ${slackRequestUrl} answered url_verification with ` +
          `HTTP ${status || 'nothing'}. Retry with\n  curl -s -X POST ${slack.url}/__admin/request-url ` +
          `-H 'content-type: application/json' -d '{"url":"${slackRequestUrl}"}'`,
  );
} else if (service.exitCode === null && service.signalCode === null) {
  console.log('The service was not ready within 2 minutes: the Slack request URL is not set.');
}
