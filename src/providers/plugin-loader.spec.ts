import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/config/load-config.js';
import type { IntegrationProvider } from '@pdeck/integration-sdk';
import { INTEGRATIONS } from './integrations.js';
import { loadIntegrationPlugins } from './plugin-loader.js';
import { withCatalog } from './providers.module.js';

const FIXTURES = resolve(import.meta.dirname, '../../test/fixtures/plugins');

function catalog(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'acme-tasks',
    displayName: 'Acme Tasks',
    itemKinds: ['task'],
    auth: { scheme: 'oauth2' },
    credentials: { clientId: 'ACME_CLIENT_ID', clientSecret: 'ACME_CLIENT_SECRET' },
    sync: { defaultIntervalMinutes: 30 },
    rateBudgets: [],
    ...overrides,
  };
}

function providerWith(cat: unknown): unknown {
  return class {
    static catalog = cat;
  };
}

/** Loads `spec` as if the module at it exported `namespace` (modules by specifier). */
function load(value: string, modules: Record<string, unknown>) {
  return loadIntegrationPlugins(value, {
    cwd: '/srv',
    importModule: async (target) => {
      const key = Object.keys(modules).find((k) => target === k || target.endsWith(k));
      if (!key)
        throw Object.assign(new Error(`Cannot find module '${target}'`), {
          code: 'ERR_MODULE_NOT_FOUND',
        });
      return modules[key];
    },
  });
}

const good = (cat = catalog()) => ({ default: { sdkVersion: '1', provider: providerWith(cat) } });

describe('loadIntegrationPlugins', () => {
  it('loads nothing when INTEGRATION_PLUGINS is unset or blank', async () => {
    expect(await loadIntegrationPlugins(undefined)).toEqual([]);
    expect(await loadIntegrationPlugins(' , ')).toEqual([]);
  });

  it('accepts a good plugin from a real file, by default export', async () => {
    const [plugin, ...rest] = await loadIntegrationPlugins(
      './test/fixtures/plugins/fixture-tasks/index.js',
      { cwd: resolve(FIXTURES, '../../..') },
    );
    expect(rest).toEqual([]);
    expect(plugin.specifier).toBe('./test/fixtures/plugins/fixture-tasks/index.js');
    expect(plugin.provider.catalog.id).toBe('fixture-tasks');
    expect(plugin.provider.catalog.credentials).toEqual({
      clientId: 'FIXTURE_TASKS_CLIENT_ID',
      clientSecret: 'FIXTURE_TASKS_CLIENT_SECRET',
    });
  });

  it('accepts a package folder by path: its exports entry, else index.js', async () => {
    for (const folder of ['packaged', 'fixture-tasks']) {
      const [plugin] = await loadIntegrationPlugins(resolve(FIXTURES, folder));
      expect(plugin.provider.catalog.id).toBe('fixture-tasks');
    }
  });

  it('accepts a named "integration" export and package names, in order', async () => {
    const plugins = await load('acme-plugin, ./beta.js', {
      'acme-plugin': { integration: { sdkVersion: '1', provider: providerWith(catalog()) } },
      '/srv/beta.js': good(
        catalog({
          id: 'beta',
          credentials: { clientId: 'BETA_ID', clientSecret: 'BETA_SECRET' },
        }),
      ),
    });
    expect(plugins.map((p) => [p.specifier, p.provider.catalog.id])).toEqual([
      ['acme-plugin', 'acme-tasks'],
      ['./beta.js', 'beta'],
    ]);
  });

  it('refuses a plugin that cannot be found', async () => {
    await expect(loadIntegrationPlugins(resolve(FIXTURES, 'missing/index.js'))).rejects.toThrow(
      new RegExp(
        `^Invalid plugin ".*missing/index\\.js" in INTEGRATION_PLUGINS: cannot be loaded \\(not found: `,
      ),
    );
    await expect(loadIntegrationPlugins('no-such-plugin-package')).rejects.toThrow(
      /^Invalid plugin "no-such-plugin-package" in INTEGRATION_PLUGINS: cannot be loaded \(not found: /,
    );
  });

  it('refuses a plugin that throws on import', async () => {
    const spec = resolve(FIXTURES, 'throws-on-import/index.js');
    await expect(loadIntegrationPlugins(spec)).rejects.toThrow(
      new ConfigError(
        `Invalid plugin "${spec}" in INTEGRATION_PLUGINS: cannot be loaded (it threw: fixture plugin exploded on import)`,
      ),
    );
  });

  it('refuses a module without a plugin export', async () => {
    await expect(load('./x.js', { 'x.js': { something: 1 } })).rejects.toThrow(
      'Invalid plugin "./x.js" in INTEGRATION_PLUGINS: exports no plugin (expected a default export or a named "integration" export of { sdkVersion, provider })',
    );
  });

  it('refuses an incompatible sdkVersion (a real file with a named export)', async () => {
    const spec = resolve(FIXTURES, 'bad-version/index.js');
    await expect(loadIntegrationPlugins(spec)).rejects.toThrow(
      `Invalid plugin "${spec}" in INTEGRATION_PLUGINS: sdkVersion "2" is not supported (this service implements "1")`,
    );
  });

  it('refuses a provider that is not a class, and imports that are not a list', async () => {
    await expect(
      load('./x.js', { 'x.js': { default: { sdkVersion: '1', provider: {} } } }),
    ).rejects.toThrow('Invalid plugin "./x.js" in INTEGRATION_PLUGINS: provider is not a class');
    await expect(
      load('./x.js', {
        'x.js': { default: { sdkVersion: '1', provider: providerWith(catalog()), imports: {} } },
      }),
    ).rejects.toThrow('imports must be an array of Nest modules');
  });

  it.each([
    [null, 'provider has no static catalog'],
    [catalog({ id: 'Acme Tasks' }), 'catalog id "Acme Tasks" must match ^[a-z][a-z0-9-]{1,39}$'],
    [catalog({ displayName: ' ' }), 'catalog displayName must be a non-empty string'],
    [
      catalog({ itemKinds: ['note'] }),
      'catalog itemKinds must be a non-empty list of event, task, message',
    ],
    [catalog({ auth: { scheme: 'apikey' } }), 'catalog auth.scheme must be one of oauth2, oauth1'],
    [
      catalog({ credentials: undefined }),
      'catalog credentials must name clientId and clientSecret variables',
    ],
    [
      catalog({ credentials: { clientId: 'acme_id', clientSecret: 'ACME_SECRET' } }),
      'catalog credentials.clientId "acme_id" must be a variable name matching ^[A-Z][A-Z0-9_]*$',
    ],
    [
      catalog({
        credentials: { clientId: 'ACME_ID', clientSecret: 'ACME_SECRET', options: { mode: 'x-y' } },
      }),
      'catalog credentials.options.mode "x-y" must be a variable name matching ^[A-Z][A-Z0-9_]*$',
    ],
    [catalog({ sync: {} }), 'catalog sync.defaultIntervalMinutes must be a positive number'],
    [catalog({ rateBudgets: undefined }), 'catalog rateBudgets must be a list'],
  ])('refuses an invalid catalog: %#', async (cat, problem) => {
    await expect(load('./x.js', { 'x.js': good(cat as Record<string, unknown>) })).rejects.toThrow(
      `Invalid plugin "./x.js" in INTEGRATION_PLUGINS: ${problem}`,
    );
  });

  it("refuses credentials variables that are the service's own or another integration's", async () => {
    for (const name of ['DATABASE_URL', 'INTEGRATION_PLUGINS']) {
      await expect(
        load('./x.js', {
          'x.js': good(catalog({ credentials: { clientId: name, clientSecret: 'ACME_SECRET' } })),
        }),
      ).rejects.toThrow(
        `Invalid plugin "./x.js" in INTEGRATION_PLUGINS: credentials variable ${name} is one of the service's own`,
      );
    }
    const trelloKey = INTEGRATIONS.find((c) => c.catalog.id === 'trello')!.catalog.credentials
      .clientId;
    await expect(
      load('./x.js', {
        'x.js': good(
          catalog({ credentials: { clientId: trelloKey, clientSecret: 'ACME_SECRET' } }),
        ),
      }),
    ).rejects.toThrow(
      `Invalid plugin "./x.js" in INTEGRATION_PLUGINS: credentials variable ${trelloKey} is already used by integration "trello"`,
    );
    await expect(
      load('./a.js, ./b.js', {
        'a.js': good(),
        'b.js': good(
          catalog({ id: 'other', credentials: { clientId: 'ACME_CLIENT_ID', clientSecret: 'B' } }),
        ),
      }),
    ).rejects.toThrow(
      'Invalid plugin "./b.js" in INTEGRATION_PLUGINS: credentials variable ACME_CLIENT_ID is already used by integration "acme-tasks"',
    );
  });

  it('refuses an id used by a built-in or by another plugin', async () => {
    await expect(load('./x.js', { 'x.js': good(catalog({ id: 'jira' })) })).rejects.toThrow(
      'Invalid plugin "./x.js" in INTEGRATION_PLUGINS: integration id "jira" is already used by a built-in integration',
    );
    await expect(
      load('./a.js,./b.js', {
        'a.js': good(),
        'b.js': good(catalog({ credentials: { clientId: 'B_ID', clientSecret: 'B_SECRET' } })),
      }),
    ).rejects.toThrow(
      'Invalid plugin "./b.js" in INTEGRATION_PLUGINS: integration id "acme-tasks" is already used by plugin "./a.js"',
    );
  });
});

describe('withCatalog (registration)', () => {
  it('gives instances the static catalog when the class declares only that one', () => {
    const Provider = providerWith(catalog()) as new () => IntegrationProvider;
    const instance = withCatalog(new Provider(), Provider);
    expect(instance.catalog.id).toBe('acme-tasks');
  });

  it('refuses a class with no catalog at all, naming it', () => {
    class NoCatalog {}
    const type = NoCatalog as unknown as new () => IntegrationProvider;
    expect(() => withCatalog(new type(), type)).toThrow(
      new ConfigError('Invalid integration NoCatalog: it has no catalog'),
    );
  });
});
