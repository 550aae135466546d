import type { ProviderCatalogEntry } from './contract.js';

/** Catalog ids: lower-case words joined by dashes; they appear in routes and variable names. */
export const CATALOG_ID_PATTERN = /^[a-z][a-z0-9-]{1,39}$/;
/** Environment variable names a catalog may declare for its credentials. */
export const ENV_NAME_PATTERN = /^[A-Z][A-Z0-9_]*$/;
const AUTH_SCHEMES = ['oauth2', 'oauth1'];
const ITEM_KINDS = ['event', 'task', 'message'];

/**
 * The catalog schema: what is wrong with a provider's static catalog, in one sentence, or
 * undefined when the service can use it. The service runs it on every plugin at startup; an
 * integration's own tests can run it too (the contract kit does).
 */
export function catalogProblem(catalog: unknown): string | undefined {
  if (!isObject(catalog)) return 'provider has no static catalog';
  const c = catalog as Record<string, unknown>;
  if (typeof c.id !== 'string' || !CATALOG_ID_PATTERN.test(c.id)) {
    return `catalog id ${JSON.stringify(c.id)} must match ${CATALOG_ID_PATTERN.source}`;
  }
  if (typeof c.displayName !== 'string' || !c.displayName.trim()) {
    return 'catalog displayName must be a non-empty string';
  }
  if (
    !Array.isArray(c.itemKinds) ||
    c.itemKinds.length === 0 ||
    !c.itemKinds.every((k) => ITEM_KINDS.includes(k as string))
  ) {
    return `catalog itemKinds must be a non-empty list of ${ITEM_KINDS.join(', ')}`;
  }
  const auth = c.auth as Record<string, unknown> | undefined;
  if (!isObject(auth) || !AUTH_SCHEMES.includes(auth.scheme as string)) {
    return `catalog auth.scheme must be one of ${AUTH_SCHEMES.join(', ')}`;
  }
  const creds = c.credentials as Record<string, unknown> | undefined;
  if (!isObject(creds)) return 'catalog credentials must name clientId and clientSecret variables';
  const names: Array<[string, unknown]> = [
    ['clientId', creds.clientId],
    ['clientSecret', creds.clientSecret],
    ...(creds.signingSecret === undefined ? [] : [['signingSecret', creds.signingSecret]]),
    ...Object.entries(isObject(creds.options) ? creds.options : {}).map(
      ([option, name]): [string, unknown] => [`options.${option}`, name],
    ),
  ] as Array<[string, unknown]>;
  for (const [field, name] of names) {
    if (typeof name !== 'string' || !ENV_NAME_PATTERN.test(name)) {
      return `catalog credentials.${field} ${JSON.stringify(name)} must be a variable name matching ${ENV_NAME_PATTERN.source}`;
    }
  }
  const sync = c.sync as Record<string, unknown> | undefined;
  const interval = isObject(sync) ? sync.defaultIntervalMinutes : undefined;
  if (typeof interval !== 'number' || !(interval > 0)) {
    return 'catalog sync.defaultIntervalMinutes must be a positive number';
  }
  if (!Array.isArray(c.rateBudgets)) return 'catalog rateBudgets must be a list';
  return undefined;
}

/** Every environment variable name a catalog's credentials declare. */
export function credentialsEnvNames(catalog: Pick<ProviderCatalogEntry, 'credentials'>): string[] {
  const c = catalog.credentials as unknown as Record<string, unknown>;
  if (!isObject(c)) return [];
  return [c.clientId, c.clientSecret, c.signingSecret, ...Object.values(c.options ?? {})].filter(
    (n): n is string => typeof n === 'string',
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
