import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, ENV_NAMES } from '../core/config/load-config.js';
import {
  catalogProblem,
  credentialsEnvNames,
  type IntegrationClass,
  type IntegrationPlugin,
  PLUGIN_API_VERSION,
} from '@pdeck/integration-sdk';
import { INTEGRATIONS } from './integrations.js';

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
    for (const name of credentialsEnvNames(c.catalog)) envOwners.set(name, c.catalog.id);
  }

  const loaded: LoadedPlugin[] = [];
  for (const specifier of pluginSpecifiers(value)) {
    const fail = (problem: string): never => {
      throw new ConfigError(`Invalid plugin "${specifier}" in ${PLUGINS_ENV}: ${problem}`);
    };
    let namespace: unknown;
    try {
      const target = isPath(specifier)
        ? pathToFileURL(entryOf(resolve(cwd, specifier))).href
        : specifier;
      namespace = await importModule(target);
    } catch (error) {
      fail(`cannot be loaded (${loadFailure(error)})`);
    }
    const plugin = checkPlugin(namespace, fail);
    const { catalog } = plugin.provider;
    const owner = ids.get(catalog.id);
    if (owner) fail(`integration id "${catalog.id}" is already used by ${owner}`);
    for (const name of credentialsEnvNames(catalog)) {
      if (serviceEnv.has(name)) fail(`credentials variable ${name} is one of the service's own`);
      const other = envOwners.get(name);
      if (other) fail(`credentials variable ${name} is already used by integration "${other}"`);
    }
    ids.set(catalog.id, `plugin "${specifier}"`);
    for (const name of credentialsEnvNames(catalog)) envOwners.set(name, catalog.id);
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

/**
 * The file to import for a path: the path itself, or for a package folder (`./plugins/acme`) the
 * entry its package.json names: `exports["."]` (its `import` or `default` target), else `main`,
 * else `index.js`. Node cannot import a folder by itself.
 */
function entryOf(path: string): string {
  if (!statSync(path, { throwIfNoEntry: false })?.isDirectory()) return path;
  const manifestPath = join(path, 'package.json');
  if (!statSync(manifestPath, { throwIfNoEntry: false })) return join(path, 'index.js');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    exports?: unknown;
    main?: unknown;
  };
  const dot =
    isObject(manifest.exports) && '.' in manifest.exports
      ? manifest.exports['.']
      : manifest.exports;
  const target =
    typeof dot === 'string' ? dot : isObject(dot) ? (dot.import ?? dot.default) : undefined;
  const entry =
    typeof target === 'string'
      ? target
      : typeof manifest.main === 'string'
        ? manifest.main
        : 'index.js';
  return join(path, entry);
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
