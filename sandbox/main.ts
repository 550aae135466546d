import { GoogleCalendarFake, SANDBOX_GOOGLE_CLIENT } from './google-calendar/index.js';
import { JiraFake, SANDBOX_JIRA_APP } from './jira/index.js';
import { SANDBOX_TRELLO_APP, TrelloFake } from './trello/index.js';

/**
 * Starts the offline Google Calendar, Trello and Jira Cloud fakes with their demo data and prints
 * what the service needs to use them. Google port: argv[2], else SANDBOX_PORT, else 9100; Trello
 * port: argv[3], else SANDBOX_TRELLO_PORT, else the Google port + 1; Jira port: argv[4], else
 * SANDBOX_JIRA_PORT, else the Google port + 2 (0 stays 0: any free port). Stops on SIGINT/SIGTERM.
 */
async function main(): Promise<void> {
  const port = Number(process.argv[2] ?? process.env.SANDBOX_PORT ?? 9100);
  const next = (offset: number): number => (port === 0 ? 0 : port + offset);
  const trelloPort = Number(process.argv[3] ?? process.env.SANDBOX_TRELLO_PORT ?? next(1));
  const jiraPort = Number(process.argv[4] ?? process.env.SANDBOX_JIRA_PORT ?? next(2));
  const google = new GoogleCalendarFake({ port });
  const trello = new TrelloFake({ port: trelloPort });
  const jira = new JiraFake({ port: jiraPort });
  const url = await google.start();
  const trelloUrl = await trello.start();
  const jiraUrl = await jira.start();
  // One PROVIDER_ORIGINS map for all three: their origins are disjoint.
  const origins = { ...google.origins(), ...trello.origins(), ...jira.origins() };
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
      `Jira Cloud sandbox listening on ${jiraUrl}`,
      ...jiraAccountLines(jira),
      `  admin:    ${jiraUrl}/__admin/state`,
      '',
      `PROVIDER_ORIGINS='${JSON.stringify(origins)}'`,
      `GOOGLE_CALENDAR_CLIENT_ID=${SANDBOX_GOOGLE_CLIENT.clientId}`,
      `GOOGLE_CALENDAR_CLIENT_SECRET=${SANDBOX_GOOGLE_CLIENT.clientSecret}`,
      `TRELLO_API_KEY=${SANDBOX_TRELLO_APP.key}`,
      `TRELLO_API_SECRET=${SANDBOX_TRELLO_APP.secret}`,
      `JIRA_CLIENT_ID=${SANDBOX_JIRA_APP.clientId}`,
      `JIRA_CLIENT_SECRET=${SANDBOX_JIRA_APP.clientSecret}`,
      '',
      'A Jira account with several Jira sites (alice) is confirmed as pending, pendingReason',
      'site_required; list its sites and choose one (internal API token):',
      '  curl -s -H "Authorization: Bearer $TOKEN" $PUBLIC_URL/v1/connections/<id>/sites',
      `  curl -s -X PUT -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\`,
      `    -d '{"cloudId":"<id of a listed site>"}' $PUBLIC_URL/v1/connections/<id>/site`,
      '',
    ].join('\n'),
  );
  const shutdown = (): void => {
    void Promise.all([google.stop(), trello.stop(), jira.stop()]).then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

/** One line per seeded Jira account: its Jira sites (what the service can sync) and the rest. */
function jiraAccountLines(jira: JiraFake): string[] {
  return jira.data.accounts.map((account) => {
    const sites = jira.data.sites.filter((s) => s.members.includes(account.accountId));
    const jiraSites = sites.filter((s) => s.product === 'jira');
    const others = sites.filter((s) => s.product !== 'jira');
    const listed = jiraSites.map((s) => `${s.name} (${s.id})`).join(', ');
    const choice = jiraSites.length > 1 ? ': choose a site after connecting' : '';
    const skipped = others.length
      ? `; not synced: ${others.map((s) => `${s.name} (${s.product})`).join(', ')}`
      : '';
    return `  ${account.handle}: ${jiraSites.length} Jira site(s) ${listed}${choice}${skipped}`;
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`sandbox failed to start: ${String(err)}\n`);
  process.exit(1);
});
