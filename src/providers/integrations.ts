import type { Type } from '@nestjs/common';
import { GoogleCalendarProvider } from './google-calendar/google-calendar.provider.js';
import type { IntegrationProvider } from './integration-provider.js';
import { TrelloProvider } from './trello/trello.provider.js';

/** Every integration shipped with the service. One line per provider folder. */
export const INTEGRATIONS: Type<IntegrationProvider>[] = [GoogleCalendarProvider, TrelloProvider];
