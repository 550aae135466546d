// `npm run demo`: the service wired to the offline sandbox fakes, with seeded accounts, and a
// stand-in for PDeck (a page for `demo-user` and its backend) to try it from a browser.
// Starts the Google Calendar, Trello, Jira Cloud and Slack fakes (and those of the plugins it
// loads, Outlook Calendar by default) in this process, then the built
// service as a child process whose PROVIDER_ORIGINS point every provider call (and every consent
// page) at them; once the service is ready, points the Slack fake's Events API at it and prints
// where to go. Ports, DATA_DIR and REDIS_KEY_PREFIX come from the environment when set, so a test
// can run the demo beside other runs; the curl walkthrough is in sandbox/README.md.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  GoogleCalendarFake,
  SANDBOX_GOOGLE_CLIENT,
} from '../dist/sandbox/google-calendar/index.js';
import { JiraFake, SANDBOX_JIRA_APP } from '../dist/sandbox/jira/index.js';
import { SANDBOX_SLACK_APP, SEED_SLACK, SlackFake } from '../dist/sandbox/slack/index.js';
import { SANDBOX_TRELLO_APP, TrelloFake } from '../dist/sandbox/trello/index.js';
import { createPdeckStandIn } from './demo/pdeck-stand-in.mjs';

const port = Number(process.env.PORT ?? 3000);
// Stands in for PDeck's backend: where the browser comes back after consent, and who confirms.
const pdeckPort = Number(process.env.DEMO_PDECK_PORT ?? 3099);
const pdeckUrl = `http://localhost:${pdeckPort}`;
const DEMO_USER = 'demo-user';
const publicUrl = process.env.PUBLIC_URL ?? `http://localhost:${port}`;
// The demo's own state (embedded Postgres, keys, token), apart from `npm start`'s `.data`: its
// connections point at the in-memory fakes, which forget them when the demo stops.
const dataDir = process.env.DATA_DIR ?? join('.data', 'demo');
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

// Plugins: what INTEGRATION_PLUGINS lists is loaded, this repository's Outlook Calendar plugin by
// default (INTEGRATION_PLUGINS= leaves it out). A plugin package that ships a sandbox (a
// `./sandbox` export with `createDemoSandbox`) gets its fake started on the next port from
// SANDBOX_PLUGINS_PORT, its origins mapped and its sandbox app's credentials set.
const plugins = (process.env.INTEGRATION_PLUGINS ?? '@pdeck/plugin-outlook-calendar')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const pluginSandboxes = [];
let pluginPort = Number(process.env.SANDBOX_PLUGINS_PORT ?? 9110);
for (const plugin of plugins) {
  const sandbox = await import(`${plugin}/sandbox`).catch((error) => {
    // A plugin given by path, or a package without a sandbox: it runs, with no fake.
    if (['ERR_MODULE_NOT_FOUND', 'ERR_PACKAGE_PATH_NOT_EXPORTED'].includes(error?.code)) return {};
    throw error;
  });
  if (typeof sandbox.createDemoSandbox === 'function') {
    pluginSandboxes.push(await sandbox.createDemoSandbox({ port: pluginPort++ }));
  }
}
const fakes = [google, trello, jira, slack, ...pluginSandboxes.map((s) => s.fake)];

// Things that live in several sources, for the stand-in's merged view (docs/cross-source.md): a
// Jira issue, a Trello card whose description links it and a Slack message that mentions it.
// One per seeded Jira site of alice's (the Connect UI asks which site to sync), on top of the
// fakes' own seed, which other tests count on as it is.
for (const [host, key, title] of [
  ['acme-sandbox.atlassian.net', 'ACME-1', 'Homepage hero image'],
  ['pdeck.atlassian.net', 'PD-1', 'Checkout button unresponsive'],
]) {
  const browse = `https://${host}/browse/${key}`;
  trello.createCard(trello.seed.boards.product, {
    name: title,
    idList: trello.seed.lists.doing,
    desc: `Tracked in Jira: ${browse}`,
    idMembers: [trello.seed.members.alice],
  });
  slack.data.post(SEED_SLACK.channels.general, {
    user: SEED_SLACK.users.alice,
    text: `Picking up <${browse}|${key}> (${title.toLowerCase()}) today.`,
  });
}
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
  DATA_DIR: dataDir,
  // Its own queues and keys too, should `npm start` share the same Redis.
  REDIS_KEY_PREFIX: process.env.REDIS_KEY_PREFIX ?? 'pdeck-demo',
  PROVIDER_ORIGINS: JSON.stringify({
    ...google.origins(),
    ...trello.origins(),
    ...jira.origins(),
    ...slack.origins(),
    ...Object.assign({}, ...pluginSandboxes.map((s) => s.origins())),
  }),
  INTEGRATION_PLUGINS: plugins.join(','),
  ...Object.assign({}, ...pluginSandboxes.map((s) => s.env)),
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

const tokenFile = join(dataDir, 'internal-api-token');

/** The internal API token: the first of INTERNAL_API_TOKENS, else the one the service generated. */
async function apiToken() {
  const configured = process.env.INTERNAL_API_TOKENS?.split(',')[0]?.trim();
  if (configured) return configured;
  return (await readFile(tokenFile, 'utf8')).trim();
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

const pdeck = createPdeckStandIn({ pdeckUrl, publicUrl, userId: DEMO_USER, callService });
pdeck.listen(pdeckPort, '127.0.0.1');

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
  if (!ok) {
    console.log(
      `Slack Events API request URL not set: ${slackRequestUrl} answered url_verification with ` +
        `HTTP ${status || 'nothing'} (Slack events will not arrive; retry: sandbox/README.md).`,
    );
  }
  const token = process.env.INTERNAL_API_TOKENS
    ? 'the first of INTERNAL_API_TOKENS'
    : `in ${tokenFile} (bearer token of the API, ${publicUrl}/docs)`;
  console.log(`
PDeck demo ready
  Open   ${pdeckUrl}  PDeck, signed in as ${DEMO_USER}: Manage integrations, click Allow
         on each sandbox consent page, and watch the items arrive.
  Token  ${token}
  Stop   Ctrl+C
  More   sandbox/README.md (the same flows with curl, Slack events, seeded accounts)
`);
} else if (service.exitCode === null && service.signalCode === null) {
  console.log(`The service was not ready within 2 minutes; ${pdeckUrl} will not work until it is.`);
}
