import { SANDBOX_SLACK_APP } from './slack-oauth.js';
import { SlackFake } from './slack.fake.js';

/**
 * Starts the Slack fake alone with its seeded workspace and prints what the service needs.
 * Port: argv[2], else SANDBOX_SLACK_PORT, else 9103 (0: any free port). Stops on SIGINT/SIGTERM.
 */
async function main(): Promise<void> {
  const port = Number(process.argv[2] ?? process.env.SANDBOX_SLACK_PORT ?? 9103);
  const slack = new SlackFake({ port });
  const url = await slack.start();
  const team = slack.seed.team;
  process.stdout.write(
    [
      `Slack sandbox listening on ${url}`,
      `  workspace: ${team.name} (${team.id}, https://${team.domain}.slack.com/)`,
      `  accounts:  ${slack.seed.consentingAccounts.join(', ')}`,
      `  admin:     ${url}/__admin/state`,
      '',
      `PROVIDER_ORIGINS='${JSON.stringify(slack.origins())}'`,
      `client id:      ${SANDBOX_SLACK_APP.clientId}`,
      `client secret:  ${SANDBOX_SLACK_APP.clientSecret}`,
      `signing secret: ${SANDBOX_SLACK_APP.signingSecret}`,
      '',
      'Set the Events API request URL (answers url_verification first):',
      `  curl -s -X POST ${url}/__admin/request-url -H 'content-type: application/json' \\`,
      `    -d '{"url":"<public URL of the service>/<its Slack events route>"}'`,
      '',
    ].join('\n'),
  );
  const shutdown = (): void => {
    void slack.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`slack sandbox failed to start: ${String(err)}\n`);
  process.exit(1);
});
