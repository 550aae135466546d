import { bearerCall, type BearerCall } from '../http/authorized-call.js';
import type { ProviderContext } from '../integration-provider.js';
import { mapJiraError } from './jira.errors.js';

export type JiraCall = BearerCall;

/** One authenticated call to api.atlassian.com; failures leave classified by mapJiraError. */
export function callJira<T>(ctx: ProviderContext, call: JiraCall): Promise<T> {
  return bearerCall<T>(ctx, call, (error) => mapJiraError(error));
}
