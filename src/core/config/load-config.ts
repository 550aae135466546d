import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import type {
  AppConfig,
  IntegrationCredentialsEnv,
  ProviderCredentials,
  RedisClusterConfig,
} from './app-config.js';
import { EnvironmentVariables, parseClusterNodes } from './environment.js';
import { type MergePolicyOverrides, parseMergePolicy } from './merge-policy-config.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const PRODUCTION_REQUIRED = [
  'INTERNAL_API_TOKENS',
  'ENCRYPTION_KEYS',
  'DATABASE_URL',
  'PUBLIC_URL',
] as const;

export interface ParseOptions {
  /**
   * False for the command-line tools (migrate, keys:rotate): they only talk to Postgres (and
   * Redis), so in production they need DATABASE_URL but none of the variables only the running
   * service uses (tokens, public URL, provider origins). Default true.
   */
  service?: boolean;
}

/**
 * Validates an environment and returns the typed configuration, or throws a ConfigError whose
 * message is one line naming the variable and the rule it broke. `integrations` name the
 * variables of each integration's app credentials (from the integrations' catalogs): core knows
 * no provider, it only reads what it is told to.
 */
export function parseConfig(
  env: Record<string, string | undefined>,
  integrations: readonly IntegrationCredentialsEnv[] = [],
  options: ParseOptions = {},
): AppConfig {
  const known = Object.fromEntries(ENV_NAMES.map((k) => [k, env[k]]));
  const vars = plainToInstance(EnvironmentVariables, stripUndefined(known), {
    enableImplicitConversion: false,
  });
  const errors = validateSync(vars, { skipMissingProperties: false });
  if (errors.length > 0) throw new ConfigError(describe(errors[0], known));

  // Fail closed: a process pointed at a real database without NODE_ENV is a production process
  // (a forgotten NODE_ENV must not bring development defaults such as generated keys).
  const nodeEnv = known.NODE_ENV ? vars.NODE_ENV : vars.DATABASE_URL ? 'production' : 'development';
  if (nodeEnv === 'production') {
    const service = options.service ?? true;
    const required = service ? PRODUCTION_REQUIRED : (['DATABASE_URL'] as const);
    const missing = required.find((name) => !vars[name]);
    if (missing) {
      throw new ConfigError(
        known.NODE_ENV
          ? `Invalid configuration: ${missing} is required when NODE_ENV=production`
          : `Invalid configuration: ${missing} is required in production (NODE_ENV is unset and DATABASE_URL is set; set NODE_ENV=development or test for a non-production run)`,
      );
    }
    if (service && vars.PROVIDER_ORIGINS && vars.ALLOW_PROVIDER_ORIGINS !== 'true') {
      throw new ConfigError(
        'Invalid configuration: PROVIDER_ORIGINS is refused in production (it redirects every provider call); set ALLOW_PROVIDER_ORIGINS=true to use it anyway',
      );
    }
    // Log pipelines read production logs as one JSON object a line; a pretty line there is lost
    // or split into fragments without a level, and formatting costs the API's CPU on every line.
    if (vars.LOG_FORMAT === 'pretty') {
      throw new ConfigError(
        'Invalid configuration: LOG_FORMAT=pretty is refused in production (log pipelines parse one JSON object a line); use json or unset it',
      );
    }
  }
  const redisCluster = redisClusterOf(vars, known);
  const encryptionKeys = splitList(vars.ENCRYPTION_KEYS).map((entry) => {
    const [kid, b64] = entry.split(':');
    return { kid, key: Buffer.from(b64, 'base64') };
  });
  const primaryKid = vars.ENCRYPTION_PRIMARY_KEY_ID;
  if (primaryKid && !encryptionKeys.some((k) => k.kid === primaryKid)) {
    throw new ConfigError(
      encryptionKeys.length === 0
        ? 'Invalid configuration: ENCRYPTION_PRIMARY_KEY_ID is set but ENCRYPTION_KEYS is not'
        : `Invalid configuration: ENCRYPTION_PRIMARY_KEY_ID "${primaryKid}" is not a key id of ENCRYPTION_KEYS (${encryptionKeys.map((k) => k.kid).join(', ')})`,
    );
  }
  const providerCredentials = Object.fromEntries(
    integrations.map((names) => [names.provider, readCredentials(env, names)]),
  );
  if (Boolean(vars.PDECK_EVENTS_URL) !== Boolean(vars.PDECK_EVENTS_SECRET)) {
    const unset = vars.PDECK_EVENTS_URL ? 'PDECK_EVENTS_SECRET' : 'PDECK_EVENTS_URL';
    throw new ConfigError(`Invalid configuration: ${unset} must be set together with its pair`);
  }
  if (vars.WEBHOOK_BODY_RETENTION_DAYS > vars.WEBHOOK_DELIVERY_RETENTION_DAYS) {
    throw new ConfigError(
      `Invalid configuration: WEBHOOK_BODY_RETENTION_DAYS must not exceed WEBHOOK_DELIVERY_RETENTION_DAYS (got ${vars.WEBHOOK_BODY_RETENTION_DAYS} > ${vars.WEBHOOK_DELIVERY_RETENTION_DAYS})`,
    );
  }

  return {
    nodeEnv,
    port: vars.PORT,
    publicUrl: (vars.PUBLIC_URL ?? `http://localhost:${vars.PORT}`).replace(/\/+$/, ''),
    databaseUrl: vars.DATABASE_URL,
    redisUrl: vars.REDIS_URL,
    ...(redisCluster ? { redisCluster } : {}),
    redisKeyPrefix: vars.REDIS_KEY_PREFIX,
    role: vars.ROLE,
    internalApiTokens: splitList(vars.INTERNAL_API_TOKENS),
    encryptionKeys,
    encryptionPrimaryKeyId: primaryKid,
    providerCredentials,
    providerOrigins: vars.PROVIDER_ORIGINS
      ? (JSON.parse(vars.PROVIDER_ORIGINS) as Record<string, string>)
      : {},
    returnToOrigins: splitList(vars.RETURN_TO_ORIGINS),
    mergePolicy: mergePolicyOf(vars.MERGE_POLICY),
    docsPublic: vars.DOCS_PUBLIC ? vars.DOCS_PUBLIC === 'true' : nodeEnv !== 'production',
    pdeckEvents:
      vars.PDECK_EVENTS_URL && vars.PDECK_EVENTS_SECRET
        ? { url: vars.PDECK_EVENTS_URL, secret: vars.PDECK_EVENTS_SECRET }
        : undefined,
    logLevel: vars.LOG_LEVEL,
    // Readable by default only where a person watches a terminal: tests parse JSON lines.
    logFormat: vars.LOG_FORMAT ?? (nodeEnv === 'development' ? 'pretty' : 'json'),
    dataDir: vars.DATA_DIR,
    syncConcurrency: vars.SYNC_CONCURRENCY,
    databaseStatementTimeoutMs: vars.DATABASE_STATEMENT_TIMEOUT_MS,
    databasePoolSize: vars.DATABASE_POOL_SIZE,
    syncJobTimeoutMs: vars.SYNC_JOB_TIMEOUT_MS,
    webhookJobTimeoutMs: vars.WEBHOOK_JOB_TIMEOUT_MS,
    workerHealthPort: vars.WORKER_HEALTH_PORT,
    trustProxy: parseTrustProxy(vars.TRUST_PROXY),
    oauthCallbackRateLimit: vars.OAUTH_CALLBACK_RATE_LIMIT,
    webhookFailureRateLimit: vars.WEBHOOK_FAILURE_RATE_LIMIT,
    retention: {
      webhookBodyDays: vars.WEBHOOK_BODY_RETENTION_DAYS,
      webhookDeliveryDays: vars.WEBHOOK_DELIVERY_RETENTION_DAYS,
      syncRunCount: vars.SYNC_RUN_RETENTION_COUNT,
      syncRunDays: vars.SYNC_RUN_RETENTION_DAYS,
    },
    issueResolveAfterMs: vars.ISSUE_RESOLVE_AFTER_MS,
    autoPauseAfterMs: vars.AUTO_PAUSE_AFTER_MS,
  };
}

/** The only place that reads process.env. */
export function loadConfigFromProcessEnv(
  integrations: readonly IntegrationCredentialsEnv[] = [],
  options: ParseOptions = {},
): AppConfig {
  return parseConfig(process.env, integrations, options);
}

/**
 * Every variable of the service itself (integrations add their credentials variables, named in
 * their catalogs); anything else in the environment is ignored.
 */
export const ENV_NAMES = [
  'NODE_ENV',
  'PORT',
  'PUBLIC_URL',
  'DATABASE_URL',
  'REDIS_URL',
  'REDIS_KEY_PREFIX',
  'REDIS_CLUSTER_NODES',
  'REDIS_USERNAME',
  'REDIS_PASSWORD',
  'REDIS_TLS',
  'ROLE',
  'INTERNAL_API_TOKENS',
  'ENCRYPTION_KEYS',
  'ENCRYPTION_PRIMARY_KEY_ID',
  'PROVIDER_ORIGINS',
  'ALLOW_PROVIDER_ORIGINS',
  'MERGE_POLICY',
  'DOCS_PUBLIC',
  'RETURN_TO_ORIGINS',
  'PDECK_EVENTS_URL',
  'PDECK_EVENTS_SECRET',
  'LOG_LEVEL',
  'LOG_FORMAT',
  'DATA_DIR',
  'SYNC_CONCURRENCY',
  'DATABASE_STATEMENT_TIMEOUT_MS',
  'DATABASE_POOL_SIZE',
  'SYNC_JOB_TIMEOUT_MS',
  'WEBHOOK_JOB_TIMEOUT_MS',
  'WORKER_HEALTH_PORT',
  'TRUST_PROXY',
  'OAUTH_CALLBACK_RATE_LIMIT',
  'WEBHOOK_FAILURE_RATE_LIMIT',
  'WEBHOOK_BODY_RETENTION_DAYS',
  'WEBHOOK_DELIVERY_RETENTION_DAYS',
  'SYNC_RUN_RETENTION_COUNT',
  'SYNC_RUN_RETENTION_DAYS',
  'ISSUE_RESOLVE_AFTER_MS',
  'AUTO_PAUSE_AFTER_MS',
] as const satisfies readonly (keyof EnvironmentVariables)[];

/**
 * An integration is enabled when both its client id and secret are set; one without the other
 * is a configuration error that names the missing variable.
 */
function readCredentials(
  env: Record<string, string | undefined>,
  names: IntegrationCredentialsEnv,
): ProviderCredentials | undefined {
  const read = (name: string | undefined) => (name ? env[name]?.trim() || undefined : undefined);
  const clientId = read(names.clientId);
  const clientSecret = read(names.clientSecret);
  if (Boolean(clientId) !== Boolean(clientSecret)) {
    const unset = clientId ? names.clientSecret : names.clientId;
    throw new ConfigError(
      `Invalid configuration: ${unset} must be set together with its pair to enable ${names.provider}`,
    );
  }
  if (!clientId || !clientSecret) return undefined;
  const signingSecret = read(names.signingSecret);
  if (names.signingSecret && !signingSecret) {
    throw new ConfigError(
      `Invalid configuration: ${names.signingSecret} must be set with ${names.clientId} and ${names.clientSecret} to enable ${names.provider} (it verifies the provider's requests)`,
    );
  }
  const options = Object.fromEntries(
    Object.entries(names.options ?? {}).flatMap(([option, name]) => {
      const value = read(name);
      return value ? [[option, value]] : [];
    }),
  );
  return {
    clientId,
    clientSecret,
    ...(signingSecret ? { signingSecret } : {}),
    ...(Object.keys(options).length ? { options } : {}),
  };
}

/**
 * REDIS_CLUSTER_NODES, already validated, with its credentials. One place says where Redis is:
 * REDIS_URL together with REDIS_CLUSTER_NODES is refused rather than one silently ignored, and
 * the cluster's credentials variables are refused without it (a single Redis carries them in
 * REDIS_URL), so a password never sits where it has no effect.
 */
function redisClusterOf(
  vars: EnvironmentVariables,
  known: Record<string, string | undefined>,
): RedisClusterConfig | undefined {
  if (!vars.REDIS_CLUSTER_NODES) {
    const stray = (['REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_TLS'] as const).find((n) => vars[n]);
    if (stray) {
      throw new ConfigError(
        `Invalid configuration: ${stray} applies to REDIS_CLUSTER_NODES only; for a single Redis put credentials and TLS in REDIS_URL (rediss://user:password@host:6379)`,
      );
    }
    return undefined;
  }
  if (known.REDIS_URL?.trim()) {
    throw new ConfigError(
      'Invalid configuration: REDIS_URL and REDIS_CLUSTER_NODES are both set; set REDIS_URL for one Redis or REDIS_CLUSTER_NODES for a Redis Cluster, not both',
    );
  }
  return {
    nodes: parseClusterNodes(vars.REDIS_CLUSTER_NODES)!,
    ...(vars.REDIS_USERNAME ? { username: vars.REDIS_USERNAME } : {}),
    ...(vars.REDIS_PASSWORD ? { password: vars.REDIS_PASSWORD } : {}),
    tls: vars.REDIS_TLS === 'true',
  };
}

/** MERGE_POLICY, already validated by MergePolicyRule: its overrides, or none. */
function mergePolicyOf(value: string | undefined): MergePolicyOverrides {
  if (!value) return {};
  const parsed = parseMergePolicy(value);
  if (!parsed.ok) throw new ConfigError(`Invalid configuration: ${parsed.error}`);
  return parsed.overrides;
}

/** TRUST_PROXY, already validated: false, a hop count, or a list of addresses/subnets/names. */
function parseTrustProxy(value: string): false | number | string[] {
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return splitList(value);
}

function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function stripUndefined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

function describe(error: ValidationError, env: Record<string, string | undefined>): string {
  // The type rule says more than a range rule about a value of the wrong type.
  const constraints = error.constraints ?? {};
  const rule = constraints.isInt ?? Object.values(constraints)[0] ?? 'is invalid';
  const message = rule.startsWith(error.property) ? rule : `${error.property} ${rule}`;
  const secretish = /SECRET|TOKEN|KEY|PASSWORD/.test(error.property);
  const got = env[error.property];
  const shown =
    got === undefined ? '' : secretish ? ' (value hidden)' : ` (got ${JSON.stringify(got)})`;
  return `Invalid configuration: ${message}${shown}`;
}
