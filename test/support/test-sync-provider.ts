import { Injectable } from '@nestjs/common';
import {
  isHttpStatusError,
  isProviderError,
  ProviderError,
  type AccountIdentity,
  type IntegrationProvider,
  type NormalizedItem,
  type ProviderCatalogEntry,
  type ProviderContext,
  type SyncCursor,
  type SyncMode,
  type SyncPage,
  type SyncResource,
  normalizedItem,
} from '@pdeck/integration-sdk';
import type { FakeTask } from './fake-tasks-api.js';

export const TASKS_ORIGIN = 'https://api.tasks.example';
export const TEST_SYNC_ID = 'test-tasks';

interface TasksPage {
  items: FakeTask[];
  nextPageToken?: string;
  nextSyncToken?: string;
}

/** A provider over FakeTasksApi, written the way real integrations are (stateless, paged). */
@Injectable()
export class TestSyncProvider implements IntegrationProvider {
  readonly catalog: ProviderCatalogEntry = {
    id: TEST_SYNC_ID,
    displayName: 'Test Tasks',
    itemKinds: ['task'],
    auth: {
      scheme: 'oauth2',
      authorizeUrl: `${TASKS_ORIGIN}/auth`,
      tokenUrl: `${TASKS_ORIGIN}/token`,
      scopes: ['tasks'],
      scopeSeparator: ' ',
      pkce: true,
      tokenRequestEncoding: 'form',
      clientAuth: 'body',
      rotatesRefreshTokens: false,
    },
    credentials: { clientId: 'TEST_CLIENT_ID', clientSecret: 'TEST_CLIENT_SECRET' },
    sync: { defaultIntervalMinutes: 30 },
    rateBudgets: [{ scope: 'connection', limit: 1000, windowMs: 1000 }],
  };

  async fetchIdentity(): Promise<AccountIdentity> {
    return { accountId: 'tasks-account', label: 'tasks@example.test' };
  }

  async listResources(ctx: ProviderContext): Promise<SyncResource[]> {
    const res = await this.get<{ items: SyncResource[] }>(ctx, '/lists', {});
    return res.items;
  }

  async *sync(
    ctx: ProviderContext,
    resource: SyncResource,
    cursor: SyncCursor | null,
    mode: SyncMode,
  ): AsyncIterable<SyncPage> {
    let pageToken = cursor?.pageToken as string | undefined;
    const syncToken =
      mode === 'incremental' ? (cursor?.syncToken as string | undefined) : undefined;
    for (;;) {
      const page = await this.get<TasksPage>(ctx, `/lists/${resource.id}/tasks`, {
        pageToken,
        syncToken,
      });
      const live = page.items.filter((t) => !t.deleted);
      const gone = page.items.filter((t) => t.deleted);
      yield {
        upserts: live.map((t) => toItem(t, resource)),
        deletions: gone.map((t) => ({
          kind: 'task' as const,
          externalId: t.id,
          externalVersion: version(t),
        })),
        cursor: page.nextPageToken
          ? { pageToken: page.nextPageToken, syncToken }
          : { syncToken: page.nextSyncToken },
        fullPassComplete: mode === 'full' && !page.nextPageToken,
      };
      if (!page.nextPageToken) return;
      pageToken = page.nextPageToken;
    }
  }

  /** Maps at the provider's boundary (every call goes through get), like real integrations. */
  private mapError(error: unknown): ProviderError {
    if (isProviderError(error)) return error;
    if (isHttpStatusError(error)) {
      if (error.status === 410)
        return new ProviderError('CURSOR_INVALID', 'Sync token expired', {
          cause: error,
          status: 410,
        });
      if (error.status === 401)
        return new ProviderError('AUTH_REVOKED', 'Token rejected', { cause: error, status: 401 });
      if (error.status === 403)
        return new ProviderError('PERMISSION', 'Forbidden', { cause: error, status: 403 });
      if (error.status === 404)
        return new ProviderError('NOT_FOUND', 'Not found', { cause: error, status: 404 });
    }
    return new ProviderError('UNKNOWN', 'Unexpected failure', { cause: error });
  }

  private async get<T>(
    ctx: ProviderContext,
    path: string,
    query: Record<string, string | undefined>,
  ): Promise<T> {
    const { accessToken } = await ctx.credentials();
    try {
      const res = await ctx.http.request<T>({
        url: `${TASKS_ORIGIN}${path}`,
        query,
        headers: { authorization: `Bearer ${accessToken}` },
        operation: path.endsWith('/tasks') ? 'tasks.list' : 'lists.list',
      });
      return res.data;
    } catch (error) {
      throw this.mapError(error);
    }
  }
}

/** Zero-padded so that text comparison orders versions numerically. */
const version = (t: FakeTask): string => String(t.version).padStart(12, '0');

function toItem(t: FakeTask, resource: SyncResource): NormalizedItem {
  return normalizedItem({
    kind: 'task',
    externalId: t.id,
    externalVersion: version(t),
    containerId: resource.id,
    containerName: resource.name,
    title: t.title,
    status: 'open',
    raw: t,
  });
}
