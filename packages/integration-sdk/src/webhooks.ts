import type {
  ItemDeletion,
  ItemKind,
  NormalizedItem,
  ProviderContext,
  SyncResource,
} from './contract.js';

/**
 * What a provider sees of an incoming webhook call. Verification must use these exact bytes and
 * this exact URL: Slack signs the raw body, Trello signs raw body + callback URL, and any
 * re-serialization (key order, unicode escapes, whitespace) breaks both.
 */
export interface WebhookRequest {
  /** The body bytes as received (empty for Google push, which sends no body). */
  rawBody: Buffer;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string | undefined>;
  /** The exact public URL that was called: PUBLIC_URL + path + query string. */
  url: string;
  query: Record<string, string>;
}

/** A subscription row as providers see it, with its secret decrypted (in memory only). */
export interface StoredWebhookSubscription {
  /** Our row id. */
  id: string;
  connectionId: string;
  /** Our resource id (calendar, board, site) the subscription watches. */
  resourceId: string;
  /** The provider's id of the subscription: Google channel id, Trello/Jira webhook id. */
  externalId: string;
  /** Provider-side resource id returned at subscribe time (Google X-Goog-Resource-ID). */
  externalResourceId: string | null;
  /** Google channel token and the like; null when the provider has none. */
  secret: string | null;
  callbackUrl: string;
  expiresAt: Date | null;
}

/** Lookups available while verifying; no credentials of any user are reachable from here. */
export interface WebhookVerifyContext {
  /**
   * The app-level key deliveries are signed with: SLACK_SIGNING_SECRET when configured, else the
   * client/app secret (Trello app secret for X-Trello-Webhook, Jira client secret for the JWT).
   */
  appSecret: string;
  /** The subscription with this provider-side id (Google channel id), or null. */
  findSubscription(externalId: string): Promise<StoredWebhookSubscription | null>;
  /**
   * The callback URLs registered for this provider's subscriptions watching our resource
   * `resourceId` (a Trello board): the active ones, and those whose subscribe call is under way
   * (the provider may deliver before it has answered). [] when nothing of ours watches it. A
   * provider that signs its callback URL (Trello) verifies against these, not the current
   * PUBLIC_URL, so existing subscriptions survive a change of PUBLIC_URL.
   */
  callbackUrlsFor(resourceId: string): Promise<string[]>;
  /** The service clock (replay windows); injectable so tests can move time. */
  now(): Date;
}

/** A response sent instead of storing the delivery (handshakes that carry no change). */
export interface WebhookImmediateResponse {
  status: number;
  body?: string;
  contentType?: string;
}

export type VerifyResult =
  | {
      ok: true;
      /**
       * Stable across the provider's retries: Slack event_id, Jira x-atlassian-webhook-identifier,
       * Trello action id, Google channel id + message number. The engine's dedupe key.
       */
      deliveryId: string;
      /**
       * Answer with this and store nothing: Slack url_verification (echo the challenge), Google's
       * `sync` message (acknowledge, no sync run).
       */
      immediateResponse?: WebhookImmediateResponse;
    }
  | {
      ok: false;
      /** For the warn log only; never sent to the caller. */
      reason: string;
      /**
       * 401 (default): not authentic. 404: addressed to nothing we know (unknown Google channel).
       * 400: authentic but malformed (only after the signature checked out, so an attacker
       * learns nothing). 410: authentic, but from a subscription that is not ours (a Trello
       * webhook someone else pointed at us, or one we no longer watch): providers that delete a
       * subscription whose callback answers 410 (Trello) stop sending. Nothing is stored.
       */
      status?: 400 | 401 | 404 | 410;
    };

/** A stored, verified delivery handed to the parser in the worker. */
export interface StoredWebhookDelivery {
  deliveryId: string;
  /** The raw body as UTF-8 text. */
  body: string;
  /** Only the headers listed in WebhookHandler.storedHeaders. */
  headers: Record<string, string>;
  receivedAt: Date;
}

/** One active connection a delivery belongs to. */
export interface RoutedConnection {
  connectionId: string;
  accountId: string;
  /** Set when found through a subscription: the resource that subscription watches. */
  resourceId?: string;
  /** The connection's settings (e.g. which Slack reaction marks a task), found by account. */
  settings?: Record<string, unknown>;
  /** Found by account and resource: the resource's name as the last listing stored it. */
  resourceName?: string | null;
}

/** Exactly one key: which active connections of this provider a delivery is for. */
export type ConnectionQuery =
  /**
   * A provider account (Slack team_id); with `resourceId`, only the connections whose syncs
   * include that resource (a Slack channel they are a member of), so nobody receives items from
   * a conversation they do not sync.
   */
  | { accountId: string; resourceId?: string }
  /** Google channel id, Jira matchedWebhookIds. */
  | { subscriptionExternalId: string }
  /** Trello model id (the watched board). */
  | { resourceId: string };

/** What the store holds for one item: its last raw state and version, live or a tombstone. */
export interface StoredItemState {
  raw: unknown;
  externalVersion: string;
  deleted: boolean;
}

export interface WebhookParseContext {
  /**
   * Active connections of this provider matching the query. When a parse returns no events and
   * some lookup found nothing, the engine records the delivery as `unroutable` (not retried).
   */
  findConnections(query: ConnectionQuery): Promise<RoutedConnection[]>;
  findSubscription(externalId: string): Promise<StoredWebhookSubscription | null>;
  /**
   * The stored state of one item of a routed connection, or null. For events that change part
   * of an item (a Slack reaction): the provider builds the full new state from it, and the
   * versioned upsert still refuses anything older than what is stored.
   */
  storedItem(
    connectionId: string,
    kind: ItemKind,
    externalId: string,
  ): Promise<StoredItemState | null>;
  now(): Date;
}

/**
 * What a delivery means. `items` carry full item states (Trello card, Slack message) and go
 * through the same versioned upsert as syncs, so out-of-order deliveries cannot regress an item;
 * `resource-changed` (Google push, or anything partial) asks for an incremental sync of the
 * resource, coalesced per connection.
 */
export type WebhookEvent =
  | { type: 'items'; connectionId: string; upserts: NormalizedItem[]; deletions: ItemDeletion[] }
  | { type: 'resource-changed'; connectionId: string; resourceId: string }
  /**
   * The provider says the grant is gone (Slack tokens_revoked, app_uninstalled): the connection
   * moves to needs_reauth, with `reason` (a short code, never token material).
   */
  | { type: 'grant-revoked'; connectionId: string; reason: string }
  /**
   * The provider says a subscription needs attention before its expiry (Microsoft Graph's
   * lifecycle notifications): `renew` extends it now (reauthorizationRequired), `replace` creates
   * a new one and stops the old (subscriptionRemoved: it is gone at the provider). The engine
   * runs it at once for the subscription with this provider-side id; pair it with a
   * `resource-changed` when changes may have been missed meanwhile.
   */
  | {
      type: 'subscription-attention';
      connectionId: string;
      subscriptionExternalId: string;
      action: 'renew' | 'replace';
    };

/** What subscribe/renew created at the provider. */
export interface NewSubscription {
  externalId: string;
  externalResourceId?: string;
  /** Stored encrypted, bound to the subscription row (Google channel token). */
  secret?: string;
  expiresAt?: Date;
}

/**
 * Webhook support of an integration. Verification runs in the HTTP process before anything is
 * stored; parsing runs later in a worker on the stored delivery; the subscription lifecycle runs
 * in workers on connect, before expiry, and on disconnect.
 */
export interface WebhookHandler {
  /**
   * Authenticates a call and names its delivery id. Must compare in constant time, use
   * `req.rawBody` and `req.url` as given, and never throw for bad input (return ok: false).
   */
  verify(req: WebhookRequest, ctx: WebhookVerifyContext): Promise<VerifyResult>;
  /** Header names (lower-case) `parse` needs, stored with the body. Authorization never is. */
  readonly storedHeaders?: readonly string[];
  /** Turns a stored delivery into events; [] when it is irrelevant (the delivery is ignored). */
  parse(delivery: StoredWebhookDelivery, ctx: WebhookParseContext): Promise<WebhookEvent[]>;
  /**
   * Creates a subscription for one resource, calling back to `callbackUrl` exactly (Trello signs
   * it). Null when the resource needs none or cannot have one (Slack: one app-level Request URL
   * for everything; Google: calendars that do not support push); the engine then leaves the
   * resource to scheduled syncs until the connection is reconnected. A throw is a failure of this
   * resource only (recorded, retried with backoff) unless it concerns the whole connection (the
   * grant, a rate limit). Providers without per-connection subscriptions omit it.
   */
  subscribe?(
    ctx: ProviderContext,
    resource: SyncResource,
    callbackUrl: string,
  ): Promise<NewSubscription | null>;
  /**
   * Extends a subscription (Jira PUT /webhook/refresh). When absent, the engine replaces it:
   * subscribe again, then unsubscribe the old one (Google channels cannot be renewed).
   */
  renew?(ctx: ProviderContext, sub: StoredWebhookSubscription): Promise<NewSubscription>;
  /** Stops a subscription at the provider (Google channels.stop, Trello/Jira DELETE). */
  unsubscribe?(ctx: ProviderContext, sub: StoredWebhookSubscription): Promise<void>;
  /** Renew when expiry is closer than this many ms. Default: one day. */
  readonly renewBefore?: number;
  /** `head`: the provider probes the callback URL with HEAD before creating a webhook (Trello). */
  readonly probe?: 'head';
}
