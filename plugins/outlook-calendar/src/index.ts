import { PLUGIN_API_VERSION, type IntegrationPlugin } from '@pdeck/integration-sdk';
import { OutlookCalendarProvider } from './outlook-calendar.provider.js';

export { OutlookCalendarProvider };
/** The plugin: list `@pdeck/plugin-outlook-calendar` in INTEGRATION_PLUGINS. */
export default {
  sdkVersion: PLUGIN_API_VERSION,
  provider: OutlookCalendarProvider,
} satisfies IntegrationPlugin;
