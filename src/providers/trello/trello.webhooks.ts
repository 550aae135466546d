import {
  hmac,
  isProviderError,
  safeEqual,
  type ProviderContext,
  type SyncResource,
  type NewSubscription,
  type StoredWebhookDelivery,
  type StoredWebhookSubscription,
  type VerifyResult,
  type WebhookEvent,
  type WebhookHandler,
  type WebhookParseContext,
  type WebhookRequest,
  type WebhookVerifyContext,
} from '@pdeck/integration-sdk';
import { cardIdOf, classifyAction } from './trello.actions.js';
import { callTrello, segment, type ApiKeySource } from './trello.http.js';
import { isoVersion } from './trello.mapper.js';
import type { TrelloWebhook, TrelloWebhookBody } from './trello.types.js';

const SIGNATURE_HEADER = 'x-trello-webhook';

/**
 * `base64(HMAC-SHA1(app secret, raw body bytes + callback URL))`, as Trello's webhook guide and
 * its verification sample compute it
 * (https://developer.atlassian.com/cloud/trello/guides/rest-api/webhooks/). Bytes, not a
 * re-serialized body: JSON.stringify may order keys or escape unicode differently from Trello.
 */
export function trelloSignature(secret: string, rawBody: Buffer, callbackUrl: string): string {
  return hmac('sha1', secret, rawBody, callbackUrl).toString('base64');
}

/**
 * Trello webhooks: one per board (idModel = board id), owned by the user's token
 * (https://developer.atlassian.com/cloud/trello/guides/rest-api/webhooks/).
 * Deliveries carry the action and the board; they are routed by the board id to every
 * connection watching it. Only deletions are applied straight from a delivery; any other card
 * change becomes an incremental sync of the board, because `action.data.card` holds only the
 * changed fields: an item built from it would blank everything else (members, labels, list).
 */
export class TrelloWebhooks implements WebhookHandler {
  /** Trello checks the callback URL with HEAD before it creates a webhook (guide above). */
  readonly probe = 'head' as const;

  constructor(private readonly apiKey: ApiKeySource) {}

  /**
   * Trello signs the body with the callback URL the webhook was registered with, so the delivery
   * is checked against the URLs stored with our subscriptions of its board (`model.id`): a change
   * of PUBLIC_URL does not break webhooks registered before it (their old URL must still reach
   * us). A board we watch nowhere gets 410 once the signature checks out against the URL called
   * (PUBLIC_URL + path): Trello then deletes that webhook, which someone holding a token for our
   * API key pointed at us, or one we no longer want. Nothing is stored for it. The board id read
   * before the signature check only chooses the URLs to check against.
   *
   * The delivery id is the watched model plus the action id: stable across Trello's retries, and
   * one row per action and board even when several tokens watch the same board (the first
   * delivery is routed to all of their connections).
   */
  async verify(req: WebhookRequest, ctx: WebhookVerifyContext): Promise<VerifyResult> {
    const header = req.headers[SIGNATURE_HEADER]?.trim();
    if (!header) return { ok: false, reason: 'no X-Trello-Webhook header' };
    if (!ctx.appSecret) return { ok: false, reason: 'no app secret configured' };
    const unverified = parseBody(req.rawBody.toString('utf8'));
    const modelId = idOf(unverified?.model?.id);
    const registered = modelId ? await ctx.callbackUrlsFor(modelId) : [];
    const candidates = registered.length > 0 ? registered : [req.url];
    const signed = (url: string) => trelloSignature(ctx.appSecret, req.rawBody, url);
    if (!candidates.some((url) => safeEqual(header, signed(url)))) {
      return { ok: false, reason: 'signature mismatch' };
    }
    // Authentic from here on: the body is what Trello sent. Without a readable model it cannot be
    // routed at all (malformed: 400); a model none of our subscriptions watches is a webhook we do
    // not want (410: Trello deletes it).
    if (!modelId) return { ok: false, status: 400, reason: 'no model id' };
    if (registered.length === 0) {
      return { ok: false, status: 410, reason: 'no subscription of ours watches this model' };
    }
    const actionId = idOf(unverified?.action?.id);
    if (!actionId) return { ok: false, status: 400, reason: 'no action id' };
    return { ok: true, deliveryId: `${modelId}:${actionId}` };
  }

  /**
   * deleteCard -> a versioned deletion (the action date: an older state arriving later cannot
   * revive the card). Other card changes and board-wide changes (trello.actions.ts) -> an
   * incremental sync of the board. Everything else (comments, checklists, ...) -> [], which the
   * engine records as an ignored delivery.
   */
  async parse(delivery: StoredWebhookDelivery, ctx: WebhookParseContext): Promise<WebhookEvent[]> {
    const body = parseBody(delivery.body);
    const action = body?.action;
    if (classifyAction(action) === 'ignored') return [];
    const boardId = idOf(body?.model?.id) ?? idOf(action?.data?.board?.id);
    if (!boardId) return [];
    const routed = await ctx.findConnections({ resourceId: boardId });
    const cardId = action ? cardIdOf(action) : null;
    if (action?.type === 'deleteCard' && cardId) {
      const version = isoVersion(action.date) ?? undefined;
      return routed.map((r) => ({
        type: 'items',
        connectionId: r.connectionId,
        upserts: [],
        deletions: [{ kind: 'task', externalId: cardId, externalVersion: version }],
      }));
    }
    return routed.map((r) => ({
      type: 'resource-changed',
      connectionId: r.connectionId,
      resourceId: r.resourceId ?? boardId,
    }));
  }

  /**
   * POST /1/webhooks with exactly the given callback URL: the engine stores that URL, and Trello
   * signs the URL it calls, so they must be the same string. No routing parameter is added:
   * deliveries name the board (`model.id`) anyway.
   */
  async subscribe(
    ctx: ProviderContext,
    resource: SyncResource,
    callbackUrl: string,
  ): Promise<NewSubscription> {
    try {
      const hook = await callTrello<TrelloWebhook>(ctx, this.apiKey, {
        operation: 'webhooks.create',
        method: 'POST',
        path: '/webhooks',
        json: {
          callbackURL: callbackUrl,
          idModel: resource.id,
          description: `PDeck: ${resource.name}`.slice(0, 200),
        },
      });
      const id = idOf(hook?.id);
      if (!id) throw new Error('trello webhooks.create: answer has no id');
      return { externalId: id };
    } catch (error) {
      const existing = isDuplicateRefusal(error)
        ? await this.findExisting(ctx, resource.id, callbackUrl)
        : null;
      if (existing) return { externalId: existing };
      throw error;
    }
  }

  /** DELETE /1/webhooks/{id}; one already gone is what we wanted. */
  async unsubscribe(ctx: ProviderContext, sub: StoredWebhookSubscription): Promise<void> {
    try {
      await callTrello(ctx, this.apiKey, {
        operation: 'webhooks.delete',
        method: 'DELETE',
        path: `/webhooks/${segment(sub.externalId)}`,
        expect: 'none',
      });
    } catch (error) {
      if (isProviderError(error) && error.code === 'NOT_FOUND') return;
      throw error;
    }
  }

  /**
   * Trello keeps one webhook per token, model and callback URL, and is reported to refuse a
   * second with a 400 (UNCONFIRMED wording). That happens when our row was lost after Trello
   * created the webhook; adopting it ends what would otherwise be a retry loop.
   */
  private async findExisting(
    ctx: ProviderContext,
    boardId: string,
    callbackUrl: string,
  ): Promise<string | null> {
    const { accessToken } = await ctx.credentials();
    const hooks = await callTrello<TrelloWebhook[]>(ctx, this.apiKey, {
      operation: 'tokens.webhooks',
      path: `/tokens/${segment(accessToken)}/webhooks`,
      tokenInPath: true,
    });
    const match = (Array.isArray(hooks) ? hooks : []).find(
      (h) => h?.idModel === boardId && h?.callbackURL === callbackUrl,
    );
    return idOf(match?.id);
  }
}

function isDuplicateRefusal(error: unknown): boolean {
  return isProviderError(error) && error.code === 'UNKNOWN' && error.status === 400;
}

function parseBody(text: string): TrelloWebhookBody | null {
  try {
    const body = JSON.parse(text) as unknown;
    return body && typeof body === 'object' ? (body as TrelloWebhookBody) : null;
  } catch {
    return null;
  }
}

/** Object ids are 24 hex characters; anything printable and short is accepted as an id. */
function idOf(value: unknown): string | null {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(value) ? value : null;
}
