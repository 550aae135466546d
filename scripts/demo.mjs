// `npm run demo`: the service wired to the offline sandbox fakes, with seeded accounts.
// Starts the Google Calendar and Trello fakes in this process, then the built service as a child
// process whose PROVIDER_ORIGINS point every provider call (and every consent page) at them.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { GoogleCalendarFake, SANDBOX_GOOGLE_CLIENT } from '../dist/sandbox/google-calendar/index.js';
import { SANDBOX_TRELLO_APP, TrelloFake } from '../dist/sandbox/trello/index.js';

const port = Number(process.env.PORT ?? 3000);
// Stands in for PDeck's backend: where the browser comes back after consent, and who confirms.
const pdeckPort = Number(process.env.DEMO_PDECK_PORT ?? 3099);
const pdeckUrl = `http://localhost:${pdeckPort}`;
const DEMO_USER = 'demo-user';
const publicUrl = process.env.PUBLIC_URL ?? `http://localhost:${port}`;
const google = new GoogleCalendarFake({ port: Number(process.env.SANDBOX_PORT ?? 9100) });
const trello = new TrelloFake({ port: Number(process.env.SANDBOX_TRELLO_PORT ?? 9101) });
await google.start();
await trello.start();

const env = {
  ...process.env,
  // A development run whatever the shell holds: NODE_ENV unset with a DATABASE_URL would mean
  // production (tokens, keys and PUBLIC_URL required, PROVIDER_ORIGINS refused).
  NODE_ENV: process.env.NODE_ENV ?? 'development',
  // The sandbox is the point of the demo, also if NODE_ENV=production is asked for.
  ALLOW_PROVIDER_ORIGINS: 'true',
  PORT: String(port),
  PUBLIC_URL: publicUrl,
  PROVIDER_ORIGINS: JSON.stringify({ ...google.origins(), ...trello.origins() }),
  GOOGLE_CALENDAR_CLIENT_ID: SANDBOX_GOOGLE_CLIENT.clientId,
  GOOGLE_CALENDAR_CLIENT_SECRET: SANDBOX_GOOGLE_CLIENT.clientSecret,
  TRELLO_API_KEY: SANDBOX_TRELLO_APP.key,
  TRELLO_API_SECRET: SANDBOX_TRELLO_APP.secret,
  RETURN_TO_ORIGINS: process.env.RETURN_TO_ORIGINS ?? `${new URL(publicUrl).origin},${pdeckUrl}`,
};
console.log(`Sandbox: Google Calendar ${google.url} (alice@example.com, bob@example.com), Trello ${trello.url} (alice, bob)
Connect an account:
  curl -s -X POST ${publicUrl}/v1/connections/google-calendar/authorize \\
    -H "Authorization: Bearer $(cat .data/internal-api-token)" -H 'content-type: application/json' \\
    -d '{"userId":"${DEMO_USER}","returnTo":"${pdeckUrl}/connected"}'
then open the authorizeUrl in a browser and click Allow. The browser comes back to ${pdeckUrl}/connected,
which confirms the grant for ${DEMO_USER} as PDeck's backend would; then read GET /v1/items?userId=${DEMO_USER}.
`);

/**
 * The part of PDeck's backend a connect flow needs: the browser lands here with connectionId and
 * a one-time confirm token (or error); the backend, which knows its signed-in user, confirms.
 */
const pdeck = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', pdeckUrl);
  if (url.pathname !== '/connected') return void res.writeHead(404).end();
  const page = (title, text) =>
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(`<!doctype html><html lang="en"><title>${title}</title><h1>${title}</h1><p>${text}</p></html>`);
  const error = url.searchParams.get('error');
  if (error) return page('Not connected', `The provider or the service said: ${escapeHtml(error)}.`);
  const id = url.searchParams.get('connectionId') ?? '';
  const token = (await readFile('.data/internal-api-token', 'utf8')).trim();
  const answer = await fetch(`${publicUrl}/v1/connections/${encodeURIComponent(id)}/confirm`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ userId: DEMO_USER, token: url.searchParams.get('confirm') ?? '' }),
  });
  const body = await answer.json();
  if (answer.status !== 200) {
    return page('Not connected', `Confirmation refused (${answer.status} ${escapeHtml(body.error)}).`);
  }
  page(
    'Connected',
    `${escapeHtml(body.provider)} account ${escapeHtml(body.accountLabel ?? body.accountId)} is now ${escapeHtml(body.status)}; ` +
      `its first sync has started. Items: GET ${publicUrl}/v1/items?userId=${DEMO_USER}`,
  );
});
pdeck.listen(pdeckPort, '127.0.0.1');

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const service = spawn(process.execPath, ['dist/main.js'], { env, stdio: 'inherit' });
const stop = async () => {
  service.kill('SIGTERM');
  pdeck.close();
  await Promise.all([google.stop(), trello.stop()]);
};
process.once('SIGINT', () => void stop().then(() => process.exit(0)));
process.once('SIGTERM', () => void stop().then(() => process.exit(0)));
service.once('exit', (code) => {
  pdeck.close();
  void Promise.all([google.stop(), trello.stop()]).then(() => process.exit(code ?? 0));
});
