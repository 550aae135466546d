import { InjectionToken } from '@nestjs/common';

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
}

/**
 * Names of the environment variables that hold one integration's app credentials. Declared by
 * the integration's catalog; configuration reads and validates them without knowing providers.
 */
export interface CredentialsEnv {
  clientId: string;
  clientSecret: string;
  signingSecret?: string;
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
