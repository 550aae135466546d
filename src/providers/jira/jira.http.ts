import { bearerApi } from '@pdeck/integration-sdk';
import { ATLASSIAN_API_ORIGIN } from './jira.catalog.js';
import { mapJiraError } from './jira.errors.js';

/** One authenticated call to api.atlassian.com, by path; failures leave classified by mapJiraError. */
export const callJira = bearerApi(ATLASSIAN_API_ORIGIN, (error) => mapJiraError(error));
