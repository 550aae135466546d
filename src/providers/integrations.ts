import type { IntegrationCredentialsEnv } from '../core/config/app-config.js';
import { GoogleCalendarProvider } from './google-calendar/google-calendar.provider.js';
import type { IntegrationClass } from '@pdeck/integration-sdk';
import { JiraProvider } from './jira/jira.provider.js';
import { SlackProvider } from './slack/slack.provider.js';
import { TrelloProvider } from './trello/trello.provider.js';

/** Every integration shipped with the service. One line per provider folder. */
export const INTEGRATIONS: IntegrationClass[] = [
  GoogleCalendarProvider,
  TrelloProvider,
  JiraProvider,
  SlackProvider,
];

/** The credentials variables of the given integrations, for configuration at startup. */
export function credentialsEnvOf(
  integrations: readonly IntegrationClass[] = INTEGRATIONS,
): IntegrationCredentialsEnv[] {
  return integrations.map(({ catalog }) => ({ provider: catalog.id, ...catalog.credentials }));
}
