import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import type { AppConfig, IntegrationCredentialsEnv, ProviderCredentials } from './app-config.js';
import { EnvironmentVariables } from './environment.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const PRODUCTION_REQUIRED = ['INTERNAL_API_TOKENS', 'ENCRYPTION_KEYS', 'DATABASE_URL'] as const;

/**
 * Validates an environment and returns the typed configuration, or throws a ConfigError whose
 * message is one line naming the variable and the rule it broke. `integrations` name the
 * variables of each integration's app credentials (from the integrations' catalogs): core knows
 * no provider, it only reads what it is told to.
 */
export function parseConfig(
  env: Record<string, string | undefined>,
  integrations: readonly IntegrationCredentialsEnv[] = [],
): AppConfig {
  const known = Object.fromEntries(ENV_NAMES.map((k) => [k, env[k]]));
  const vars = plainToInstance(EnvironmentVariables, stripUndefined(known), {
    enableImplicitConversion: false,
  });
  const errors = validateSync(vars, { skipMissingProperties: false });
  if (errors.length > 0) throw new ConfigError(describe(errors[0], known));

  if (vars.NODE_ENV === 'production') {
    const missing = PRODUCTION_REQUIRED.find((name) => !vars[name]);
    if (missing) {
      throw new ConfigError(
        `Invalid configuration: ${missing} is required when NODE_ENV=production`,
      );
    }
  }
  const providerCredentials = Object.fromEntries(
    integrations.map((names) => [names.provider, readCredentials(env, names)]),
  );
  if (Boolean(vars.PDECK_EVENTS_URL) !== Boolean(vars.PDECK_EVENTS_SECRET)) {
    const unset = vars.PDECK_EVENTS_URL ? 'PDECK_EVENTS_SECRET' : 'PDECK_EVENTS_URL';
    throw new ConfigError(`Invalid configuration: ${unset} must be set together with its pair`);
  }

  return {
    nodeEnv: vars.NODE_ENV,
    port: vars.PORT,
    publicUrl: (vars.PUBLIC_URL ?? `http://localhost:${vars.PORT}`).replace(/\/+$/, ''),
    databaseUrl: vars.DATABASE_URL,
    redisUrl: vars.REDIS_URL,
    redisKeyPrefix: vars.REDIS_KEY_PREFIX,
    role: vars.ROLE,
    internalApiTokens: splitList(vars.INTERNAL_API_TOKENS),
    encryptionKeys: splitList(vars.ENCRYPTION_KEYS).map((entry) => {
      const [kid, b64] = entry.split(':');
      return { kid, key: Buffer.from(b64, 'base64') };
    }),
    providerCredentials,
    providerOrigins: vars.PROVIDER_ORIGINS
      ? (JSON.parse(vars.PROVIDER_ORIGINS) as Record<string, string>)
      : {},
    returnToOrigins: splitList(vars.RETURN_TO_ORIGINS),
    pdeckEvents:
      vars.PDECK_EVENTS_URL && vars.PDECK_EVENTS_SECRET
        ? { url: vars.PDECK_EVENTS_URL, secret: vars.PDECK_EVENTS_SECRET }
        : undefined,
    logLevel: vars.LOG_LEVEL,
    dataDir: vars.DATA_DIR,
    syncConcurrency: vars.SYNC_CONCURRENCY,
  };
}

/** The only place that reads process.env. */
export function loadConfigFromProcessEnv(
  integrations: readonly IntegrationCredentialsEnv[] = [],
): AppConfig {
  return parseConfig(process.env, integrations);
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
  'ROLE',
  'INTERNAL_API_TOKENS',
  'ENCRYPTION_KEYS',
  'PROVIDER_ORIGINS',
  'RETURN_TO_ORIGINS',
  'PDECK_EVENTS_URL',
  'PDECK_EVENTS_SECRET',
  'LOG_LEVEL',
  'DATA_DIR',
  'SYNC_CONCURRENCY',
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
  return signingSecret ? { clientId, clientSecret, signingSecret } : { clientId, clientSecret };
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
  const secretish = /SECRET|TOKEN|KEY/.test(error.property);
  const got = env[error.property];
  const shown =
    got === undefined ? '' : secretish ? ' (value hidden)' : ` (got ${JSON.stringify(got)})`;
  return `Invalid configuration: ${message}${shown}`;
}
