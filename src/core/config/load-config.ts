import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import type { AppConfig, ProviderCredentials } from './app-config.js';
import { EnvironmentVariables } from './environment.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const PRODUCTION_REQUIRED = ['INTERNAL_API_TOKENS', 'ENCRYPTION_KEYS', 'DATABASE_URL'] as const;

/** Provider credentials, by provider id: a provider is enabled when both halves are set. */
const PROVIDER_ENV: Record<
  string,
  { id: keyof EnvironmentVariables; secret: keyof EnvironmentVariables }
> = {
  'google-calendar': { id: 'GOOGLE_CALENDAR_CLIENT_ID', secret: 'GOOGLE_CALENDAR_CLIENT_SECRET' },
  trello: { id: 'TRELLO_API_KEY', secret: 'TRELLO_API_SECRET' },
  jira: { id: 'JIRA_CLIENT_ID', secret: 'JIRA_CLIENT_SECRET' },
  slack: { id: 'SLACK_CLIENT_ID', secret: 'SLACK_CLIENT_SECRET' },
};

/**
 * Validates an environment and returns the typed configuration, or throws a ConfigError whose
 * message is one line naming the variable and the rule it broke.
 */
export function parseConfig(env: Record<string, string | undefined>): AppConfig {
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
  for (const [provider, names] of Object.entries(PROVIDER_ENV)) {
    if (Boolean(vars[names.id]) !== Boolean(vars[names.secret])) {
      const unset = vars[names.id] ? names.secret : names.id;
      throw new ConfigError(
        `Invalid configuration: ${unset} must be set together with its pair to enable ${provider}`,
      );
    }
  }
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
    providerCredentials: Object.fromEntries(
      Object.entries(PROVIDER_ENV).map(([provider, names]) => [
        provider,
        credentials(vars, names.id, names.secret, provider),
      ]),
    ),
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
export function loadConfigFromProcessEnv(): AppConfig {
  return parseConfig(process.env);
}

/** Every variable the service reads; anything else in the environment is ignored. */
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
  ...Object.values(PROVIDER_ENV).flatMap((n) => [n.id, n.secret]),
  'SLACK_SIGNING_SECRET',
  'PROVIDER_ORIGINS',
  'RETURN_TO_ORIGINS',
  'PDECK_EVENTS_URL',
  'PDECK_EVENTS_SECRET',
  'LOG_LEVEL',
  'DATA_DIR',
  'SYNC_CONCURRENCY',
] as const satisfies readonly (keyof EnvironmentVariables)[];

function credentials(
  vars: EnvironmentVariables,
  id: keyof EnvironmentVariables,
  secret: keyof EnvironmentVariables,
  provider: string,
): ProviderCredentials | undefined {
  const clientId = vars[id] as string | undefined;
  const clientSecret = vars[secret] as string | undefined;
  if (!clientId || !clientSecret) return undefined;
  return provider === 'slack'
    ? { clientId, clientSecret, signingSecret: vars.SLACK_SIGNING_SECRET }
    : { clientId, clientSecret };
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
