import { GoogleCalendarFake, SANDBOX_GOOGLE_CLIENT } from './google-calendar/index.js';
import { SANDBOX_TRELLO_APP, TrelloFake } from './trello/index.js';

/**
 * Starts the offline Google Calendar and Trello fakes with their demo data and prints what the
 * service needs to use them. Google port: argv[2], else SANDBOX_PORT, else 9100; Trello port:
 * argv[3], else SANDBOX_TRELLO_PORT, else the Google port + 1 (0 stays 0: any free port).
 * Stops on SIGINT/SIGTERM.
 */
async function main(): Promise<void> {
  const port = Number(process.argv[2] ?? process.env.SANDBOX_PORT ?? 9100);
  const trelloPort = Number(
    process.argv[3] ?? process.env.SANDBOX_TRELLO_PORT ?? (port === 0 ? 0 : port + 1),
  );
  const google = new GoogleCalendarFake({ port });
  const trello = new TrelloFake({ port: trelloPort });
  const url = await google.start();
  const trelloUrl = await trello.start();
  // One PROVIDER_ORIGINS map for both: their origins are disjoint.
  const origins = { ...google.origins(), ...trello.origins() };
  const accounts = google.accounts.map((a) => a.email).join(', ');
  const members = [...trello.data.members.values()].map((m) => m.username).join(', ');
  process.stdout.write(
    [
      `Google Calendar sandbox listening on ${url}`,
      `  accounts: ${accounts}`,
      `  admin:    ${url}/__admin/state`,
      `Trello sandbox listening on ${trelloUrl}`,
      `  members:  ${members}`,
      `  admin:    ${trelloUrl}/__admin/state`,
      '',
      `PROVIDER_ORIGINS='${JSON.stringify(origins)}'`,
      `GOOGLE_CALENDAR_CLIENT_ID=${SANDBOX_GOOGLE_CLIENT.clientId}`,
      `GOOGLE_CALENDAR_CLIENT_SECRET=${SANDBOX_GOOGLE_CLIENT.clientSecret}`,
      `TRELLO_API_KEY=${SANDBOX_TRELLO_APP.key}`,
      `TRELLO_API_SECRET=${SANDBOX_TRELLO_APP.secret}`,
      '',
    ].join('\n'),
  );
  const shutdown = (): void => {
    void Promise.all([google.stop(), trello.stop()]).then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`sandbox failed to start: ${String(err)}\n`);
  process.exit(1);
});
