import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, ENV_NAMES } from '../core/config/load-config.js';
import type { IntegrationClass } from './integration-provider.js';
import { INTEGRATIONS } from './integrations.js';
import { type IntegrationPlugin, PLUGIN_API_VERSION } from './plugin-contract.js';

/** The variable that lists the plugins: module specifiers, comma-separated. */
export const PLUGINS_ENV = 'INTEGRATION_PLUGINS';

/** A plugin that passed every check, with the specifier it was loaded from. */
export interface LoadedPlugin extends IntegrationPlugin {
  specifier: string;
}

export interface LoadPluginsOptions {
  /** Relative paths are resolved from here (default: the working directory). */
  cwd?: string;
  /** Integrations already registered, whose ids and credentials variables are taken. */
  builtIns?: readonly IntegrationClass[];
  /** The service's own variables, which no plugin may claim. */
  serviceEnv?: readonly string[];
  /** Loads one module (default: dynamic import). Tests replace it to hand over a module. */
  importModule?: (target: string) => Promise<unknown>;
}

const ID_PATTERN = /^[a-z][a-z0-9-]{1,39}$/;
const ENV_PATTERN = /^[A-Z][A-Z0-9_]*$/;
const AUTH_SCHEMES = ['oauth2', 'oauth1'];
const ITEM_KINDS = ['event', 'task', 'message'];

/** The specifiers listed in INTEGRATION_PLUGINS, trimmed, without empty entries. */
export function pluginSpecifiers(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Loads and checks every plugin INTEGRATION_PLUGINS names, in order. The first bad one stops
 * startup with a ConfigError whose message is one line naming the specifier and the problem.
 */
export async function loadIntegrationPlugins(
  value: string | undefined,
  options: LoadPluginsOptions = {},
): Promise<LoadedPlugin[]> {
  const cwd = options.cwd ?? process.cwd();
  const importModule = options.importModule ?? ((target: string) => import(target));
  const builtIns = options.builtIns ?? INTEGRATIONS;
  const serviceEnv = new Set([...(options.serviceEnv ?? ENV_NAMES), PLUGINS_ENV]);
  const ids = new Map<string, string>(
    builtIns.map((c) => [c.catalog.id, 'a built-in integration']),
  );
  const envOwners = new Map<string, string>();
  for (const c of builtIns) {
    for (const name of envNamesOf(c.catalog.credentials)) envOwners.set(name, c.catalog.id);
  }

  const loaded: LoadedPlugin[] = [];
  for (const specifier of pluginSpecifiers(value)) {
    const fail = (problem: string): never => {
      throw new ConfigError(`Invalid plugin "${specifier}" in ${PLUGINS_ENV}: ${problem}`);
    };
    const target = isPath(specifier) ? pathToFileURL(resolve(cwd, specifier)).href : specifier;
    let namespace: unknown;
    try {
      namespace = await importModule(target);
    } catch (error) {
      fail(`cannot be loaded (${loadFailure(error)})`);
    }
    const plugin = checkPlugin(namespace, fail);
    const { catalog } = plugin.provider;
    const owner = ids.get(catalog.id);
    if (owner) fail(`integration id "${catalog.id}" is already used by ${owner}`);
    for (const name of envNamesOf(catalog.credentials)) {
      if (serviceEnv.has(name)) fail(`credentials variable ${name} is one of the service's own`);
      const other = envOwners.get(name);
      if (other) fail(`credentials variable ${name} is already used by integration "${other}"`);
    }
    ids.set(catalog.id, `plugin "${specifier}"`);
    for (const name of envNamesOf(catalog.credentials)) envOwners.set(name, catalog.id);
    loaded.push({ ...plugin, specifier });
  }
  return loaded;
}

/** The module's plugin export, checked for shape, version and catalog; `fail` throws. */
function checkPlugin(namespace: unknown, fail: (problem: string) => never): IntegrationPlugin {
  const ns = (namespace ?? {}) as Record<string, unknown>;
  const exported = [ns.default, ns.integration].find(isObject);
  if (!exported) {
    fail(
      'exports no plugin (expected a default export or a named "integration" export of { sdkVersion, provider })',
    );
  }
  const candidate = exported as Record<string, unknown>;
  if (candidate.sdkVersion !== PLUGIN_API_VERSION) {
    fail(
      `sdkVersion ${JSON.stringify(candidate.sdkVersion)} is not supported (this service implements "${PLUGIN_API_VERSION}")`,
    );
  }
  if (typeof candidate.provider !== 'function') fail('provider is not a class');
  if (candidate.imports !== undefined && !Array.isArray(candidate.imports)) {
    fail('imports must be an array of Nest modules');
  }
  const problem = catalogProblem((candidate.provider as { catalog?: unknown }).catalog);
  if (problem) fail(problem);
  return candidate as unknown as IntegrationPlugin;
}

/** What is wrong with a provider's static catalog, or undefined when it is usable. */
function catalogProblem(catalog: unknown): string | undefined {
  if (!isObject(catalog)) return 'provider has no static catalog';
  const c = catalog as Record<string, unknown>;
  if (typeof c.id !== 'string' || !ID_PATTERN.test(c.id)) {
    return `catalog id ${JSON.stringify(c.id)} must match ${ID_PATTERN.source}`;
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
    if (typeof name !== 'string' || !ENV_PATTERN.test(name)) {
      return `catalog credentials.${field} ${JSON.stringify(name)} must be a variable name matching ${ENV_PATTERN.source}`;
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

function envNamesOf(credentials: unknown): string[] {
  if (!isObject(credentials)) return [];
  const c = credentials as Record<string, unknown>;
  return [c.clientId, c.clientSecret, c.signingSecret, ...Object.values(c.options ?? {})].filter(
    (n): n is string => typeof n === 'string',
  );
}

/** A path (absolute or starting with a dot) rather than a package name. */
function isPath(specifier: string): boolean {
  return isAbsolute(specifier) || specifier.startsWith('.');
}

function loadFailure(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
    return `not found: ${message}`;
  }
  return `it threw: ${message}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
