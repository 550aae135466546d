import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type ResolvedAppConfig } from '../../core/config/app-config.js';
import {
  ProviderError,
  type AccountIdentity,
  type IntegrationProvider,
  type ProviderContext,
  type SyncCursor,
  type SyncMode,
  type SyncPage,
  type SyncResource,
  type WebhookHandler,
  providerFailure,
} from '@pdeck/integration-sdk';
import { TRELLO_CATALOG, TRELLO_ID } from './trello.catalog.js';
import { callTrello, segment, type ApiKeySource } from './trello.http.js';
import { arrayOf } from './trello.reads.js';
import { fullPass, incrementalPass, type SyncDeps } from './trello.sync.js';
import type { TrelloBoard, TrelloMember } from './trello.types.js';
import { TrelloWebhooks } from './trello.webhooks.js';
import { trelloLinkEvidence } from './trello.links.js';

/**
 * Trello: the member's open boards are the sync resources, their cards the task items. Calls
 * authenticate with the app's public API key and the user's token in the Authorization header.
 *
 * The API key comes from the configuration, not the context (it is the same for every user).
 * APP_CONFIG rather than ProviderRegistry: the registry is built from the integration providers,
 * so injecting it here would be a dependency cycle. Nothing per request is kept on the instance.
 */
@Injectable()
export class TrelloProvider implements IntegrationProvider {
  static readonly catalog = TRELLO_CATALOG;
  readonly catalog = TRELLO_CATALOG;
  readonly webhooks: WebhookHandler;
  readonly linkEvidence = trelloLinkEvidence;
  private readonly apiKey: ApiKeySource;
  private readonly deps: SyncDeps;

  constructor(@Inject(APP_CONFIG) config: ResolvedAppConfig) {
    this.apiKey = () => {
      const key = config.providerCredentials[TRELLO_ID]?.clientId;
      if (key) return key;
      const name = TRELLO_CATALOG.credentials.clientId;
      throw providerFailure(TRELLO_ID, 'UNKNOWN', `${name} is not configured`, 'not_configured');
    };
    this.webhooks = new TrelloWebhooks(this.apiKey);
    this.deps = {
      apiKey: this.apiKey,
      syncedBoards: async (ctx) => new Set((await this.listResources(ctx)).map((b) => b.id)),
    };
  }

  /**
   * The token's member, `/1/members/me`
   * (https://developer.atlassian.com/cloud/trello/guides/rest-api/authorization/): its id is
   * stable, the username is what users recognise.
   */
  async fetchIdentity(ctx: ProviderContext): Promise<AccountIdentity> {
    const me = await callTrello<TrelloMember>(ctx, this.apiKey, {
      operation: 'members.me',
      path: '/members/me',
      query: { fields: 'id,username,fullName' },
    });
    if (typeof me?.id !== 'string' || !me.id) {
      throw providerFailure(TRELLO_ID, 'UNKNOWN', '/members/me has no id', 'no_member_id');
    }
    return { accountId: me.id, label: me.username || me.fullName || me.id };
  }

  /**
   * DELETE /1/tokens/{token} (Trello's REST API reference, as the trello.js client implements it):
   * the token is the grant, there is nothing else. A token Trello no longer knows (the user
   * revoked it in Trello, 401 `invalid token`) is the outcome we wanted, not a failure to record.
   */
  async revoke(ctx: ProviderContext): Promise<void> {
    const { accessToken } = await ctx.credentials();
    try {
      await callTrello(ctx, this.apiKey, {
        operation: 'tokens.delete',
        method: 'DELETE',
        path: `/tokens/${segment(accessToken)}`,
        expect: 'none',
        tokenInPath: true,
      });
    } catch (error) {
      const code = (error as ProviderError).code;
      if (code === 'AUTH_REVOKED' || code === 'NOT_FOUND') return;
      throw error;
    }
  }

  /**
   * The member's open boards; `settings.boardIds` (string[]) narrows them to exactly those
   * (an empty list syncs nothing). Archived boards are left out: Trello hides them too.
   */
  async listResources(ctx: ProviderContext): Promise<SyncResource[]> {
    const boards = arrayOf(
      await callTrello<TrelloBoard[]>(ctx, this.apiKey, {
        operation: 'members.boards',
        path: '/members/me/boards',
        query: { filter: 'open', fields: 'id,name,closed' },
      }),
    );
    const chosen = chosenBoardIds(ctx.settings);
    return boards
      .filter((b): b is TrelloBoard & { id: string } => typeof b?.id === 'string' && !!b.id)
      .filter((b) => b.closed !== true && (!chosen || chosen.has(b.id)))
      .map((b) => ({ id: b.id, name: b.name || b.id }));
  }

  /** Full: the board's open cards, swept at the end. Incremental: its actions since the cursor. */
  sync(
    ctx: ProviderContext,
    resource: SyncResource,
    cursor: SyncCursor | null,
    mode: SyncMode,
  ): AsyncIterable<SyncPage> {
    return mode === 'full'
      ? fullPass(ctx, this.deps, resource)
      : incrementalPass(ctx, this.deps, resource, cursor);
  }
}

/** `settings.boardIds` when it is a list of strings (possibly empty: sync nothing). */
function chosenBoardIds(settings: Record<string, unknown>): Set<string> | null {
  const ids = settings?.boardIds;
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) return null;
  return new Set(ids);
}
