import { JiraFake, SANDBOX_JIRA_APP } from './jira.fake.js';

/**
 * Starts the Jira fake alone with its seeded data and prints what the service needs.
 * Port: argv[2], else SANDBOX_JIRA_PORT, else 9102 (0: any free port). Stops on SIGINT/SIGTERM.
 */
async function main(): Promise<void> {
  const port = Number(process.argv[2] ?? process.env.SANDBOX_JIRA_PORT ?? 9102);
  const jira = new JiraFake({ port });
  const url = await jira.start();
  const sites = jira.data.sites.map((s) => `${s.name} (${s.product}, ${s.id})`).join(', ');
  process.stdout.write(
    [
      `Jira sandbox listening on ${url}`,
      `  accounts: ${jira.data.accounts.map((a) => a.handle).join(', ')}`,
      `  sites:    ${sites}`,
      `  admin:    ${url}/__admin/state`,
      '',
      `PROVIDER_ORIGINS='${JSON.stringify(jira.origins())}'`,
      `client id:     ${SANDBOX_JIRA_APP.clientId}`,
      `client secret: ${SANDBOX_JIRA_APP.clientSecret}`,
      '',
    ].join('\n'),
  );
  const shutdown = (): void => {
    void jira.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`jira sandbox failed to start: ${String(err)}\n`);
  process.exit(1);
});
