import { GoogleCalendarFake, SANDBOX_GOOGLE_CLIENT } from './google-calendar/index.js';

/**
 * Starts the offline Google Calendar fake with the demo accounts and prints what the service
 * needs to use it. Port: argv[2], else SANDBOX_PORT, else 9100. Stops on SIGINT/SIGTERM.
 */
async function main(): Promise<void> {
  const port = Number(process.argv[2] ?? process.env.SANDBOX_PORT ?? 9100);
  const google = new GoogleCalendarFake({ port });
  const url = await google.start();
  const origins = google.origins();
  const accounts = google.accounts.map((a) => a.email).join(', ');
  process.stdout.write(
    [
      `Google Calendar sandbox listening on ${url}`,
      `  accounts: ${accounts}`,
      `  admin:    ${url}/__admin/state`,
      '',
      `PROVIDER_ORIGINS='${JSON.stringify(origins)}'`,
      `GOOGLE_CALENDAR_CLIENT_ID=${SANDBOX_GOOGLE_CLIENT.clientId}`,
      `GOOGLE_CALENDAR_CLIENT_SECRET=${SANDBOX_GOOGLE_CLIENT.clientSecret}`,
      '',
    ].join('\n'),
  );
  const shutdown = (): void => {
    void google.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`sandbox failed to start: ${String(err)}\n`);
  process.exit(1);
});
