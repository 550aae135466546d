// `npm run demo`: the service wired to the offline sandbox fakes, with seeded accounts.
// Starts the Google Calendar and Trello fakes in this process, then the built service as a child
// process whose PROVIDER_ORIGINS point every provider call (and every consent page) at them.
import { spawn } from 'node:child_process';
import { GoogleCalendarFake, SANDBOX_GOOGLE_CLIENT } from '../dist/sandbox/google-calendar/index.js';
import { SANDBOX_TRELLO_APP, TrelloFake } from '../dist/sandbox/trello/index.js';

const port = Number(process.env.PORT ?? 3000);
const publicUrl = process.env.PUBLIC_URL ?? `http://localhost:${port}`;
const google = new GoogleCalendarFake({ port: Number(process.env.SANDBOX_PORT ?? 9100) });
const trello = new TrelloFake({ port: Number(process.env.SANDBOX_TRELLO_PORT ?? 9101) });
await google.start();
await trello.start();

const env = {
  ...process.env,
  PORT: String(port),
  PUBLIC_URL: publicUrl,
  PROVIDER_ORIGINS: JSON.stringify({ ...google.origins(), ...trello.origins() }),
  GOOGLE_CALENDAR_CLIENT_ID: SANDBOX_GOOGLE_CLIENT.clientId,
  GOOGLE_CALENDAR_CLIENT_SECRET: SANDBOX_GOOGLE_CLIENT.clientSecret,
  TRELLO_API_KEY: SANDBOX_TRELLO_APP.key,
  TRELLO_API_SECRET: SANDBOX_TRELLO_APP.secret,
  RETURN_TO_ORIGINS: process.env.RETURN_TO_ORIGINS ?? new URL(publicUrl).origin,
};
console.log(`Sandbox: Google Calendar ${google.url} (alice@example.com, bob@example.com), Trello ${trello.url} (alice, bob)
Connect an account:
  curl -s -X POST ${publicUrl}/v1/connections/google-calendar/authorize \\
    -H "Authorization: Bearer $(cat .data/internal-api-token)" -H 'content-type: application/json' \\
    -d '{"userId":"demo-user","returnTo":"${publicUrl}/docs"}'
then open the authorizeUrl in a browser, click Allow, and read GET /v1/items?userId=demo-user.
`);

const service = spawn(process.execPath, ['dist/main.js'], { env, stdio: 'inherit' });
const stop = async () => {
  service.kill('SIGTERM');
  await Promise.all([google.stop(), trello.stop()]);
};
process.once('SIGINT', () => void stop().then(() => process.exit(0)));
process.once('SIGTERM', () => void stop().then(() => process.exit(0)));
service.once('exit', (code) => void Promise.all([google.stop(), trello.stop()]).then(() => process.exit(code ?? 0)));
