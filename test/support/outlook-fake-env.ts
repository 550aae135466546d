import type { OutlookFake } from '@pdeck/plugin-outlook-calendar/sandbox';

/** The plugin package, as a deployment lists it in INTEGRATION_PLUGINS. */
export const OUTLOOK_PLUGIN = '@pdeck/plugin-outlook-calendar';

/** What an app needs to load the Outlook plugin and talk to the fake: origins and client. */
export function outlookFakeEnv(fake: OutlookFake): Record<string, string> {
  return {
    INTEGRATION_PLUGINS: OUTLOOK_PLUGIN,
    PROVIDER_ORIGINS: JSON.stringify(fake.origins()),
    OUTLOOK_CALENDAR_CLIENT_ID: fake.clients[0].clientId,
    OUTLOOK_CALENDAR_CLIENT_SECRET: fake.clients[0].clientSecret,
  };
}

/** Live event ids of the mailbox inside a delta window (as stored in the sync cursor). */
export function idsInWindow(
  fake: OutlookFake,
  email: string,
  window: { start: string; end: string },
): string[] {
  const start = Date.parse(window.start);
  const end = Date.parse(window.end);
  const instant = (t: string) => Date.parse(`${t.slice(0, 23)}Z`);
  return [...fake.mailbox(email).events.values()]
    .filter((e) => instant(e.start.dateTime) < end && instant(e.end.dateTime) > start)
    .map((e) => e.id)
    .sort();
}
