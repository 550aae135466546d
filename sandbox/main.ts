import { GoogleCalendarFake, SANDBOX_GOOGLE_CLIENT } from './google-calendar/index.js';
import { JiraFake, SANDBOX_JIRA_APP } from './jira/index.js';
import { SANDBOX_SLACK_APP, SlackFake } from './slack/index.js';
import { SANDBOX_TRELLO_APP, TrelloFake } from './trello/index.js';

/**
 * Starts the offline Google Calendar, Trello, Jira Cloud and Slack fakes with their demo data and
 * prints what the service needs to use them. Google port: argv[2], else SANDBOX_PORT, else 9100;
 * Trello port: argv[3], else SANDBOX_TRELLO_PORT, else the Google port + 1; Jira port: argv[4],
 * else SANDBOX_JIRA_PORT, else the Google port + 2; Slack port: argv[5], else SANDBOX_SLACK_PORT,
 * else the Google port + 3 (0 stays 0: any free port). Stops on SIGINT/SIGTERM.
 */
async function main(): Promise<void> {
  const port = Number(process.argv[2] ?? process.env.SANDBOX_PORT ?? 9100);
  const next = (offset: number): number => (port === 0 ? 0 : port + offset);
  const trelloPort = Number(process.argv[3] ?? process.env.SANDBOX_TRELLO_PORT ?? next(1));
  const jiraPort = Number(process.argv[4] ?? process.env.SANDBOX_JIRA_PORT ?? next(2));
  const slackPort = Number(process.argv[5] ?? process.env.SANDBOX_SLACK_PORT ?? next(3));
  const google = new GoogleCalendarFake({ port });
  const trello = new TrelloFake({ port: trelloPort });
  const jira = new JiraFake({ port: jiraPort });
  // Default history limits (one call a minute), as Slack gives a new non-Marketplace app; the
  // service paces itself the same way while SLACK_APP_DISTRIBUTION is unset.
  const slack = new SlackFake({ port: slackPort });
  const url = await google.start();
  const trelloUrl = await trello.start();
  const jiraUrl = await jira.start();
  const slackUrl = await slack.start();
  // One PROVIDER_ORIGINS map for all four: their origins are disjoint.
  const origins = {
    ...google.origins(),
    ...trello.origins(),
    ...jira.origins(),
    ...slack.origins(),
  };
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
      `Slack sandbox listening on ${slackUrl}`,
      ...slackUserLines(slack),
      `  admin:    ${slackUrl}/__admin/state`,
      '',
      `PROVIDER_ORIGINS='${JSON.stringify(origins)}'`,
      `GOOGLE_CALENDAR_CLIENT_ID=${SANDBOX_GOOGLE_CLIENT.clientId}`,
      `GOOGLE_CALENDAR_CLIENT_SECRET=${SANDBOX_GOOGLE_CLIENT.clientSecret}`,
      `TRELLO_API_KEY=${SANDBOX_TRELLO_APP.key}`,
      `TRELLO_API_SECRET=${SANDBOX_TRELLO_APP.secret}`,
      `JIRA_CLIENT_ID=${SANDBOX_JIRA_APP.clientId}`,
      `JIRA_CLIENT_SECRET=${SANDBOX_JIRA_APP.clientSecret}`,
      `SLACK_CLIENT_ID=${SANDBOX_SLACK_APP.clientId}`,
      `SLACK_CLIENT_SECRET=${SANDBOX_SLACK_APP.clientSecret}`,
      `SLACK_SIGNING_SECRET=${SANDBOX_SLACK_APP.signingSecret}`,
      '',
      'A Jira account with several Jira sites (alice) is confirmed as pending, pendingReason',
      'site_required; list its sites and choose one (internal API token):',
      '  curl -s -H "Authorization: Bearer $TOKEN" $PUBLIC_URL/v1/connections/<id>/sites',
      `  curl -s -X PUT -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\`,
      `    -d '{"cloudId":"<id of a listed site>"}' $PUBLIC_URL/v1/connections/<id>/site`,
      '',
      'Once the service runs, set the Slack Events API request URL (the fake sends a',
      'url_verification first and keeps the URL only when the service answers the challenge):',
      `  curl -s -X POST ${slackUrl}/__admin/request-url -H 'content-type: application/json' \\`,
      `    -d "{\\"url\\":\\"$PUBLIC_URL/v1/webhooks/slack\\"}"`,
      'Events are sent only for a workspace the app is installed in: connect a Slack account first.',
      '',
    ].join('\n'),
  );
  const shutdown = (): void => {
    void Promise.all([google.stop(), trello.stop(), jira.stop(), slack.stop()]).then(() =>
      process.exit(0),
    );
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

/** The seeded workspace and its people: who can consent (connect) and who is a member only. */
function slackUserLines(slack: SlackFake): string[] {
  const team = slack.seed.team;
  const consenting: readonly string[] = slack.seed.consentingAccounts;
  const people = slack.data.users
    .filter((u) => !u.isBot)
    .map((u) => `${u.name} (${u.id}${consenting.includes(u.name) ? '' : ', member only'})`);
  return [
    `  workspace: ${team.name} (${team.id}, https://${team.domain}.slack.com/)`,
    `  users:    ${people.join(', ')}`,
  ];
}

main().catch((err: unknown) => {
  process.stderr.write(`sandbox failed to start: ${String(err)}\n`);
  process.exit(1);
});
