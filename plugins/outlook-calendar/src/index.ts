import { PLUGIN_API_VERSION, type IntegrationPlugin } from '@pdeck/integration-sdk';
import { OutlookCalendarProvider as provider } from './outlook-calendar.provider.js';

/** The plugin: list `@pdeck/plugin-outlook-calendar` in INTEGRATION_PLUGINS. */
export default { sdkVersion: PLUGIN_API_VERSION, provider } satisfies IntegrationPlugin;
