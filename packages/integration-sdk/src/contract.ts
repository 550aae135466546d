import type { ProviderHttp } from './http.js';
import type { WebhookHandler } from './webhooks.js';

/**
 * Names of the environment variables that hold one integration's app credentials. Declared by
 * the integration's catalog; the service reads and validates them without knowing providers.
 */
export interface CredentialsEnv {
  clientId: string;
  clientSecret: string;
  /** When declared, required with the pair: deliveries cannot be verified without it. */
  signingSecret?: string;
  /**
   * Optional app-level settings by option name -> variable name (Slack's app distribution,
   * which decides its rate limits). Read when set; the integration validates the values.
   */
  options?: Record<string, string>;
}

export type ItemKind = 'event' | 'task' | 'message';

/** Static facts about an OAuth 2.0 authorization server, as data, not code. */
export interface OAuth2AuthDescriptor {
  scheme: 'oauth2';
  authorizeUrl: string;
  tokenUrl: string;
  /** Revocation endpoint (RFC 7009 style form post of `token`), when the provider has one. */
  revokeUrl?: string;
  scopes: string[];
  scopeSeparator: ' ' | ',';
  pkce: boolean;
  /** Extra authorize parameters, e.g. Google `access_type=offline`, Atlassian `audience`. */
  authorizeParams?: Record<string, string>;
  /** Token request body: form (RFC 6749) or JSON (Atlassian). */
  tokenRequestEncoding: 'form' | 'json';
  /** Client authentication at the token endpoint. */
  clientAuth: 'body' | 'basic';
  /** Whether a refresh returns a new refresh token and invalidates the old one. */
  rotatesRefreshTokens: boolean;
  /**
   * Token-endpoint error codes, besides RFC 6749's `invalid_grant`, meaning the grant is dead and
   * only reconnecting helps (Slack answers `invalid_refresh_token`, `token_revoked`, ...).
   */
  deadGrantErrors?: string[];
  /**
   * Token-response fields that carry a further token of the same grant, by the name it is stored
   * under in `ConnectionCredentials.linked`: Slack answers the user token in `authed_user` beside
   * the bot token (`{ user: 'authed_user' }`). Each is refreshed on its own with its own refresh
   * token, whose answer comes at the top level like any refresh.
   */
  linkedTokens?: Record<string, string>;
}

/** Static facts about an OAuth 1.0a server (Trello). */
export interface OAuth1AuthDescriptor {
  scheme: 'oauth1';
  requestTokenUrl: string;
  authorizeUrl: string;
  accessTokenUrl: string;
  authorizeParams?: Record<string, string>;
}

export type AuthDescriptor = OAuth2AuthDescriptor | OAuth1AuthDescriptor;

/** A documented request budget, enforced by the engine in Redis for every worker. */
export interface RateBudget {
  /**
   * `app`: shared by every connection of the client/key; `connection`: per user token;
   * `account`: per provider account (a Slack workspace), shared by its connections.
   */
  scope: 'app' | 'connection' | 'account';
  limit: number;
  windowMs: number;
  /**
   * Only requests of these operations count against it (Slack limits per method); without it,
   * every request of the provider does.
   */
  operations?: readonly string[];
}

export interface ProviderCatalogEntry {
  id: string;
  displayName: string;
  itemKinds: ItemKind[];
  auth: AuthDescriptor;
  /** Environment variables of the app credentials; the integration is enabled when they are set. */
  credentials: CredentialsEnv;
  sync: { defaultIntervalMinutes: number };
  rateBudgets: RateBudget[];
}

/** One OAuth token with what refreshing it needs. */
export interface OAuthToken {
  accessToken: string;
  refreshToken?: string;
  /** ISO time computed from our receive time + expires_in. */
  expiresAt?: string;
  /** The scopes granted to this token, as the token endpoint wrote them (when it did). */
  scope?: string;
}

/** Decrypted secrets of a connection. Exists only in memory for the duration of a call. */
export interface ConnectionCredentials extends OAuthToken {
  /**
   * Further tokens of the same grant by name (see OAuth2AuthDescriptor.linkedTokens): Slack's
   * user token beside the bot token. Each expires and is refreshed on its own.
   */
  linked?: Record<string, OAuthToken>;
  /** OAuth 1.0a token secret. */
  tokenSecret?: string;
  /** Provider extras that must stay secret-grade (e.g. Jira cloud id). */
  extras?: Record<string, string>;
}

export interface AccountIdentity {
  accountId: string;
  label: string;
  /** Merged into the encrypted credentials' extras (e.g. Jira cloudid and site URL). */
  extras?: Record<string, string>;
  /**
   * Non-secret facts the provider needs where credentials are not available (webhook parsing
   * sees the connection's settings, not its credentials): merged into the connection's settings
   * when the grant is confirmed. Slack stores its workspace URL here for permalinks. The
   * provider's validateSettings should refuse user changes to these keys.
   */
  settings?: Record<string, string>;
  /** The site this identity is bound to, for providers with `sites` (stored, not secret). */
  siteId?: string;
  /**
   * The grant reaches several sites and none is chosen yet: after confirmation the connection
   * stays `pending` with reason `site_required` until a site is picked (PUT .../site).
   */
  siteRequired?: boolean;
}

/** A site (a Jira Cloud site) a grant reaches; a connection syncs exactly one. */
export interface ProviderSite {
  id: string;
  name: string;
  url: string | null;
}

/**
 * For providers whose one grant reaches several sites of which a connection syncs one. The
 * framework never picks for the user: one site is taken by `fetchIdentity` itself, several wait.
 */
export interface SiteSelection {
  /** The sites this grant can sync, sorted by name (the provider's order is not meaningful). */
  list(ctx: ProviderContext): Promise<ProviderSite[]>;
  /**
   * The identity once `siteId` is chosen: extras (merged into the credentials), label, siteId.
   * Throws ProviderError NOT_FOUND when `siteId` is not one of `list`.
   */
  choose(ctx: ProviderContext, siteId: string): Promise<AccountIdentity>;
}

/** Everything a provider gets per call; providers never keep any of it on `this`. */
export interface ProviderContext {
  connectionId: string;
  accountId: string;
  settings: Record<string, unknown>;
  /** A valid access token and the extras, refreshed by the framework when near expiry. */
  credentials(): Promise<ConnectionCredentials>;
  /** HTTP bound to this provider: origin overrides, timeouts, rate budgets, safe logging. */
  http: ProviderHttp;
  signal?: AbortSignal;
  /**
   * During syncs: the versions our store holds for these live items of the connection (absent
   * ids are not stored or deleted). Lets a provider list ids first and read only what changed.
   */
  knownVersions?(kind: ItemKind, externalIds: readonly string[]): Promise<Map<string, string>>;
}

export interface RevokeOptions {
  /**
   * Other active connections share this provider account (PDeck users of one Slack workspace):
   * tokens that belong to the account rather than to this user (Slack's bot token) must stay.
   */
  accountInUse: boolean;
}

/** A syncable container: a calendar, a board, a Jira site, a Slack channel. */
export interface SyncResource {
  id: string;
  name: string;
}

export interface NormalizedItem {
  kind: ItemKind;
  /** Unique within the connection (compose container + id where the API id is not). */
  externalId: string;
  containerId: string | null;
  containerName: string | null;
  title: string | null;
  body: string | null;
  status: string | null;
  startsAt: Date | null;
  endsAt: Date | null;
  allDay: boolean;
  dueAt: Date | null;
  url: string | null;
  assignees: string[];
  labels: string[];
  /** Who the item is from, in words (a message's author); null or absent when unknown. */
  author?: string | null;
  externalUpdatedAt: Date | null;
  /** Monotonic provider version as text; compared by the upsert to refuse older versions. */
  externalVersion: string;
  raw: unknown;
}

export interface ItemDeletion {
  kind: ItemKind;
  externalId: string;
  /** Provider version of the deletion when known (so a late older upsert cannot revive it). */
  externalVersion?: string;
  /**
   * Store a tombstone even when the item was never stored: its creation may still arrive later,
   * out of order (Slack events), and must not revive it; or the deletion itself is information a
   * reader needs (a cancelled instance of a recurring Google event removes that occurrence).
   * Without a version the tombstone claims no order: any later live copy revives it.
   */
  tombstoneIfUnknown?: boolean;
  /**
   * Stored as the `raw` of a tombstone created by tombstoneIfUnknown (never on existing rows):
   * what a reader needs to know about the deleted item, e.g. a cancelled instance's
   * `recurringEventId` and `originalStartTime`.
   */
  raw?: Record<string, unknown>;
}

/** Opaque to the engine; stored per (connection, resource) as JSON. */
export type SyncCursor = Record<string, unknown>;

export interface SyncPage {
  upserts: NormalizedItem[];
  deletions: ItemDeletion[];
  /** Cursor to persist together with this page, in the same transaction. */
  cursor: SyncCursor | null;
  /** True on the last page of a full pass: the engine may then sweep unseen items. */
  fullPassComplete?: boolean;
  /**
   * With fullPassComplete: the pass read a window, not everything (Slack's backfill of the last
   * days), so what it did not list is not gone and no sweep runs.
   */
  keepUnseen?: boolean;
  /**
   * Full pass only: items the provider listed as still there without sending their content
   * (an ids-only listing whose versions match `knownVersions`). The sweep keeps them.
   */
  seen?: Array<{ kind: ItemKind; externalId: string }>;
}

export type SyncMode = 'full' | 'incremental';

/**
 * One integration. Failures: every method throws ProviderError, mapped once where the provider
 * talks to its API (its HTTP helper); the engine passes those through unchanged and decides by
 * their code. Anything else that escapes is a provider bug and is treated as UNKNOWN.
 */
export interface IntegrationProvider {
  readonly catalog: ProviderCatalogEntry;
  /** Who the token belongs to, read right after the code exchange. */
  fetchIdentity(ctx: ProviderContext): Promise<AccountIdentity>;
  /** Revokes the grant at the provider when it has an endpoint the descriptor cannot express. */
  revoke?(ctx: ProviderContext, options: RevokeOptions): Promise<void>;
  listResources(ctx: ProviderContext): Promise<SyncResource[]>;
  /**
   * Yields pages for one resource. `cursor` is null for a full pass from the start; providers
   * throw ProviderError CURSOR_INVALID when the provider rejects the cursor (Google 410).
   */
  sync(
    ctx: ProviderContext,
    resource: SyncResource,
    cursor: SyncCursor | null,
    mode: SyncMode,
  ): AsyncIterable<SyncPage>;
  /** Webhook verification, parsing and subscription lifecycle, for providers that push. */
  webhooks?: WebhookHandler;
  /** For providers whose grant reaches several sites (Jira): listing and choosing one. */
  sites?: SiteSelection;
  /**
   * Whether the next run of a resource must be a full pass although an incremental cursor
   * exists: providers whose incremental feed reports no deletions (Jira search) ask for a
   * periodic full pass, whose sweep removes what is gone or left the scope.
   */
  fullPassDue?(cursor: SyncCursor, now: Date): boolean;
  /**
   * Checks a settings patch (PATCH /v1/connections/:id/settings) before it is stored: the
   * problems in words, [] when it is acceptable. Without it only the engine's keys are accepted.
   */
  validateSettings?(patch: Record<string, unknown>): string[];
  /**
   * What a stored item says about its identity across sources (docs/cross-source.md): keys it
   * IS (`identity`), keys it answers to when mentioned but that prove nothing when shared
   * (`alias`), and keys of things it mentions (`reference`). Pure and synchronous: it reads only
   * the item. Without it the provider's items are never linked automatically.
   */
  linkEvidence?(item: LinkableItem): LinkEvidence[];
}

/** The stored item as link detection hands it to a provider: columns plus `raw`. */
export interface LinkableItem {
  id: string;
  provider: string;
  kind: ItemKind;
  externalId: string;
  containerId: string | null;
  title: string | null;
  body: string | null;
  url: string | null;
  raw: unknown;
}

/**
 * - `identity`: the item IS this thing. Two items with the same identity key are the same thing.
 * - `alias`: the item answers to this key when another item mentions it (a Jira issue to its bare
 *   key `ABC-123`), but two items sharing an alias are not the same (two sites can both have
 *   `ABC-123`).
 * - `reference`: the item mentions this thing (a link in a description, a key in a message).
 */
export type LinkEvidenceRole = 'identity' | 'alias' | 'reference';

export interface LinkEvidence {
  /**
   * `<namespace>:<value>`, e.g. `ical:<iCalUID>`, `jira:<host>/<KEY>`, `trello:<shortLink>`.
   * The namespace names the kind of thing: a reference to a key of a namespace the item itself
   * has an identity or alias in is a relation between two things of that kind, not evidence.
   */
  key: string;
  role: LinkEvidenceRole;
  /**
   * Identity only: who vouches for it (a meeting's organizer). Equal on both sides raises the
   * link's confidence, different lowers it; absent on either side leaves it as is.
   */
  qualifier?: string;
}

/**
 * An integration's class: its catalog is also static, so configuration can read the credentials
 * variables before the application (and the instance) exists. Nest builds it; constructor
 * parameters, when it has any, are injected from the modules a plugin declares in `imports`.
 */
// oxlint-disable-next-line no-explicit-any -- Nest's Type<T>: any constructor parameters.
export type IntegrationClass = (new (...args: any[]) => IntegrationProvider) & {
  readonly catalog: ProviderCatalogEntry;
};

/**
 * The one multi-provider token every integration is registered under; the Auth, Sync and
 * Webhooks modules inject the list. A global symbol, so a plugin built against its own copy of
 * this package still names the same token.
 */
export const INTEGRATION_PROVIDERS: unique symbol = Symbol.for('pdeck.integration-providers');
