import { InjectionToken } from '@nestjs/common';

export type Role = 'all' | 'api' | 'worker';

export interface EncryptionKeyConfig {
  kid: string;
  key: Buffer;
}

export interface ProviderCredentials {
  clientId: string;
  clientSecret: string;
  /** Slack only: the request-signing secret of the app. */
  signingSecret?: string;
}

/** The validated, typed configuration every module reads. Built once in core/config. */
export interface AppConfig {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  publicUrl: string;
  /** Undefined until the runtime has started an embedded Postgres (development only). */
  databaseUrl?: string;
  redisUrl: string;
  redisKeyPrefix: string;
  role: Role;
  internalApiTokens: string[];
  encryptionKeys: EncryptionKeyConfig[];
  providerCredentials: Record<string, ProviderCredentials | undefined>;
  providerOrigins: Record<string, string>;
  returnToOrigins: string[];
  pdeckEvents?: { url: string; secret: string };
  logLevel: string;
  /**
   * Where JSON log lines go instead of stdout. Never read from the environment: set in code by
   * whoever embeds the service (tests capture logs with it to prove no secret is written).
   */
  logDestination?: { write(line: string): void };
  dataDir: string;
  syncConcurrency: number;
}

/** Resolved configuration after development defaults were filled in (database, keys, tokens). */
export interface ResolvedAppConfig extends AppConfig {
  databaseUrl: string;
}

export const APP_CONFIG: InjectionToken<ResolvedAppConfig> = Symbol('APP_CONFIG');
