import type { CredentialsEnv } from '@pdeck/integration-sdk';
import { InjectionToken } from '@nestjs/common';
import type { MergePolicyOverrides } from './merge-policy-config.js';

export type Role = 'all' | 'api' | 'worker';

export interface EncryptionKeyConfig {
  kid: string;
  key: Buffer;
}

export interface ProviderCredentials {
  clientId: string;
  clientSecret: string;
  /** An app-level request-signing secret, for providers that have one apart from the client secret. */
  signingSecret?: string;
  /** The integration's own app-level options by name, as set (see CredentialsEnv.options). */
  options?: Record<string, string>;
}

/** One integration's credentials variables, as handed to configuration at startup. */
export interface IntegrationCredentialsEnv extends CredentialsEnv {
  provider: string;
}

/** The validated, typed configuration every module reads. Built once in core/config. */
export interface AppConfig {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  publicUrl: string;
  /** Undefined until the runtime has started an embedded Postgres (development only). */
  databaseUrl?: string;
  /** REDIS_URL: the one Redis, unless redisCluster is set (then unused). */
  redisUrl: string;
  /** REDIS_CLUSTER_NODES and its credentials: a Redis Cluster instead of REDIS_URL. */
  redisCluster?: RedisClusterConfig;
  redisKeyPrefix: string;
  role: Role;
  internalApiTokens: string[];
  encryptionKeys: EncryptionKeyConfig[];
  /** The kid that encrypts (ENCRYPTION_PRIMARY_KEY_ID); undefined: the first of encryptionKeys. */
  encryptionPrimaryKeyId?: string;
  providerCredentials: Record<string, ProviderCredentials | undefined>;
  providerOrigins: Record<string, string>;
  returnToOrigins: string[];
  /** MERGE_POLICY: overrides of the merged view's provider ranks ({} = the defaults). */
  mergePolicy: MergePolicyOverrides;
  /** Whether /docs answers without the internal bearer token (DOCS_PUBLIC; default: not in production). */
  docsPublic: boolean;
  pdeckEvents?: { url: string; secret: string };
  logLevel: string;
  /**
   * LOG_FORMAT: `pretty` (human-readable lines, the default in development) or `json` (one JSON
   * object a line: production, test, and whatever parses the logs).
   */
  logFormat: 'json' | 'pretty';
  /**
   * Where JSON log lines go instead of stdout. Never read from the environment: set in code by
   * whoever embeds the service (tests capture logs with it to prove no secret is written).
   */
  logDestination?: { write(line: string): void };
  dataDir: string;
  syncConcurrency: number;
  /** Postgres connections per process (DATABASE_POOL_SIZE). */
  databasePoolSize: number;
  /** Postgres statement_timeout in ms (DATABASE_STATEMENT_TIMEOUT_MS); 0 = none. */
  databaseStatementTimeoutMs: number;
  /** Deadline of one sync job (SYNC_JOB_TIMEOUT_MS). */
  syncJobTimeoutMs: number;
  /** Deadline of processing one stored webhook delivery (WEBHOOK_JOB_TIMEOUT_MS). */
  webhookJobTimeoutMs: number;
  /** ROLE=worker: port of the health and metrics server (WORKER_HEALTH_PORT); 0 = none. */
  workerHealthPort: number;
  /** Express `trust proxy` (TRUST_PROXY): which proxies may name the client's address. */
  trustProxy: false | number | string[];
  /** OAuth callback requests per client address per minute (OAUTH_CALLBACK_RATE_LIMIT); 0 = off. */
  oauthCallbackRateLimit: number;
  /** Failed webhook verifications per client address per minute before 429; 0 = off. */
  webhookFailureRateLimit: number;
  retention: RetentionConfig;
  /** Quiet period before an open connection issue resolves (ISSUE_RESOLVE_AFTER_MS). */
  issueResolveAfterMs: number;
  /** How long a sync issue stays open before its connection is paused (AUTO_PAUSE_AFTER_MS). */
  autoPauseAfterMs: number;
}

/** A Redis Cluster (REDIS_CLUSTER_NODES, REDIS_USERNAME, REDIS_PASSWORD, REDIS_TLS). */
export interface RedisClusterConfig {
  /** Seed nodes: the client discovers the other nodes and the slot map from them. */
  nodes: { host: string; port: number }[];
  username?: string;
  password?: string;
  tls: boolean;
}

/** How long history and inboxes are kept (WEBHOOK_*_RETENTION_DAYS, SYNC_RUN_RETENTION_*). */
export interface RetentionConfig {
  /** Days a finished webhook delivery keeps its body. */
  webhookBodyDays: number;
  /** Days a finished webhook delivery row is kept; never less than webhookBodyDays. */
  webhookDeliveryDays: number;
  /** The newest sync runs of each connection kept whatever their age. */
  syncRunCount: number;
  /** Days every sync run is kept. */
  syncRunDays: number;
}

/** Resolved configuration after development defaults were filled in (database, keys, tokens). */
export interface ResolvedAppConfig extends AppConfig {
  databaseUrl: string;
}

export const APP_CONFIG: InjectionToken<ResolvedAppConfig> = Symbol('APP_CONFIG');
