import { bearerCall, type BearerCall, type ProviderContext } from '@pdeck/integration-sdk';
import { mapJiraError } from './jira.errors.js';

export type JiraCall = BearerCall;

/** One authenticated call to api.atlassian.com; failures leave classified by mapJiraError. */
export function callJira<T>(ctx: ProviderContext, call: JiraCall): Promise<T> {
  return bearerCall<T>(ctx, call, (error) => mapJiraError(error));
}
