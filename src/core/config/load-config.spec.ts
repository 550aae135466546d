import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './load-config.js';

const KEY = `k1:${Buffer.alloc(32, 7).toString('base64')}`;
const TOKEN = 'a'.repeat(32);

/** Credentials variables as integrations' catalogs declare them (core knows no provider). */
const INTEGRATIONS = [
  {
    provider: 'calendar',
    clientId: 'CALENDAR_CLIENT_ID',
    clientSecret: 'CALENDAR_CLIENT_SECRET',
  },
  {
    provider: 'chat',
    clientId: 'CHAT_CLIENT_ID',
    clientSecret: 'CHAT_CLIENT_SECRET',
    signingSecret: 'CHAT_SIGNING_SECRET',
    options: { distribution: 'CHAT_APP_DISTRIBUTION' },
  },
];

function errorOf(env: Record<string, string>): string {
  try {
    parseConfig(env, INTEGRATIONS);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('applies development defaults', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      nodeEnv: 'development',
      port: 3000,
      publicUrl: 'http://localhost:3000',
      redisUrl: 'redis://127.0.0.1:6379',
      role: 'all',
      internalApiTokens: [],
      encryptionKeys: [],
      providerOrigins: {},
      returnToOrigins: [],
    });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.providerCredentials).toEqual({});
    expect(parseConfig({}, INTEGRATIONS).providerCredentials).toEqual({
      calendar: undefined,
      chat: undefined,
    });
  });

  it('derives PUBLIC_URL from PORT and strips a trailing slash', () => {
    expect(parseConfig({ PORT: '8080' }).publicUrl).toBe('http://localhost:8080');
    expect(parseConfig({ PUBLIC_URL: 'https://int.pdeck.io/' }).publicUrl).toBe(
      'https://int.pdeck.io',
    );
  });

  it('refuses an integration that declares a signing secret when only the client pair is set', () => {
    expect(errorOf({ CHAT_CLIENT_ID: 'sid', CHAT_CLIENT_SECRET: 'ssecret' })).toBe(
      "Invalid configuration: CHAT_SIGNING_SECRET must be set with CHAT_CLIENT_ID and CHAT_CLIENT_SECRET to enable chat (it verifies the provider's requests)",
    );
  });

  it('parses lists, keys, origins and provider credentials', () => {
    const config = parseConfig(
      {
        INTERNAL_API_TOKENS: `${TOKEN}, ${'b'.repeat(30)}`,
        ENCRYPTION_KEYS: `${KEY},old:${Buffer.alloc(32, 1).toString('base64')}`,
        PROVIDER_ORIGINS: '{"https://oauth2.googleapis.com":"http://127.0.0.1:9100"}',
        RETURN_TO_ORIGINS: 'https://app.pdeck.io,http://localhost:5173',
        CALENDAR_CLIENT_ID: ' cid ',
        CALENDAR_CLIENT_SECRET: 'csecret',
        CHAT_CLIENT_ID: 'sid',
        CHAT_CLIENT_SECRET: 'ssecret',
        CHAT_SIGNING_SECRET: 'signing',
        CHAT_APP_DISTRIBUTION: 'internal',
        PDECK_EVENTS_URL: 'http://127.0.0.1:4000/events',
        PDECK_EVENTS_SECRET: 'whsec_0123456789abcdef',
      },
      INTEGRATIONS,
    );
    expect(config.internalApiTokens).toEqual([TOKEN, 'b'.repeat(30)]);
    expect(config.encryptionKeys.map((k) => k.kid)).toEqual(['k1', 'old']);
    expect(config.encryptionKeys[0].key).toHaveLength(32);
    expect(config.providerOrigins).toEqual({
      'https://oauth2.googleapis.com': 'http://127.0.0.1:9100',
    });
    expect(config.returnToOrigins).toEqual(['https://app.pdeck.io', 'http://localhost:5173']);
    expect(config.providerCredentials.calendar).toEqual({
      clientId: 'cid',
      clientSecret: 'csecret',
    });
    expect(config.providerCredentials.chat?.signingSecret).toBe('signing');
    expect(config.providerCredentials.chat?.options).toEqual({ distribution: 'internal' });
    expect(config.pdeckEvents?.url).toBe('http://127.0.0.1:4000/events');
  });

  it.each([
    [{ PORT: 'abc' }, /^Invalid configuration: PORT must be an integer number \(got "abc"\)/],
    [{ PORT: '70000' }, /PORT must not be greater than 65535/],
    [{ ROLE: 'cron' }, /ROLE must be one of the following values: all, api, worker/],
    [{ REDIS_URL: 'http://x' }, /REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must be a postgres:\/\/ connection URL/],
    [{ ENCRYPTION_KEYS: 'k1:dG9vLXNob3J0' }, /ENCRYPTION_KEYS must be .*\(value hidden\)/],
    [{ ENCRYPTION_KEYS: `${KEY},${KEY}` }, /unique key ids/],
    [{ INTERNAL_API_TOKENS: 'short' }, /INTERNAL_API_TOKENS must be .* at least 24/],
    [
      { PROVIDER_ORIGINS: '{"https://a.com/path":"http://127.0.0.1:1"}' },
      /PROVIDER_ORIGINS must be a JSON object/,
    ],
    [{ PROVIDER_ORIGINS: 'not json' }, /PROVIDER_ORIGINS/],
    [
      { RETURN_TO_ORIGINS: 'javascript:alert(1)' },
      /RETURN_TO_ORIGINS must be a comma-separated list of origins/,
    ],
    [{ CALENDAR_CLIENT_ID: 'key' }, /CALENDAR_CLIENT_SECRET must be set together .* calendar$/],
    [{ CHAT_CLIENT_SECRET: 'x' }, /CHAT_CLIENT_ID must be set together .* chat$/],
    [{ PDECK_EVENTS_URL: 'http://127.0.0.1:1/e' }, /PDECK_EVENTS_SECRET must be set together/],
  ])('rejects %j with one line naming the variable', (env, pattern) => {
    const message = errorOf(env as Record<string, string>);
    expect(message).toMatch(pattern);
    expect(message).not.toContain('\n');
  });

  it('reads a Redis Cluster from REDIS_CLUSTER_NODES with its credentials', () => {
    const config = parseConfig({
      REDIS_CLUSTER_NODES: 'redis-1:7000, 10.0.0.2:7001,[::1]:7002',
      REDIS_USERNAME: 'pdeck',
      REDIS_PASSWORD: 'cluster-password',
      REDIS_TLS: 'true',
    });
    expect(config.redisCluster).toEqual({
      nodes: [
        { host: 'redis-1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      username: 'pdeck',
      password: 'cluster-password',
      tls: true,
    });
    expect(parseConfig({ REDIS_CLUSTER_NODES: 'r:6379' }).redisCluster).toEqual({
      nodes: [{ host: 'r', port: 6379 }],
      tls: false,
    });
    expect(parseConfig({}).redisCluster).toBeUndefined();
  });

  it.each([
    [{ REDIS_CLUSTER_NODES: 'redis-1' }, /REDIS_CLUSTER_NODES must be comma-separated host:port/],
    [{ REDIS_CLUSTER_NODES: 'a:1,a:1' }, /REDIS_CLUSTER_NODES must be comma-separated host:port/],
    [{ REDIS_CLUSTER_NODES: 'a:0' }, /REDIS_CLUSTER_NODES must be/],
    [{ REDIS_CLUSTER_NODES: 'redis://a:6379' }, /REDIS_CLUSTER_NODES must be/],
    [{ REDIS_CLUSTER_NODES: '[nope]:6379' }, /REDIS_CLUSTER_NODES must be/],
    [
      { REDIS_CLUSTER_NODES: 'a:6379', REDIS_URL: 'redis://b:6379' },
      /REDIS_URL and REDIS_CLUSTER_NODES are both set/,
    ],
    [{ REDIS_PASSWORD: 'p' }, /REDIS_PASSWORD applies to REDIS_CLUSTER_NODES only/],
    [{ REDIS_TLS: 'true' }, /REDIS_TLS applies to REDIS_CLUSTER_NODES only/],
    [{ REDIS_CLUSTER_NODES: 'a:1', REDIS_TLS: 'yes' }, /REDIS_TLS must be true or false/],
  ])('refuses the Redis settings %j, naming the variable', (env, pattern) => {
    const message = errorOf(env as Record<string, string>);
    expect(message).toMatch(pattern);
    expect(message).not.toContain('\n');
  });

  it('never echoes REDIS_PASSWORD', () => {
    const message = errorOf({ REDIS_CLUSTER_NODES: 'a:1', REDIS_PASSWORD: 'two words' });
    expect(message).toMatch(/REDIS_PASSWORD must be/);
    expect(message).not.toContain('two words');
  });

  it('never echoes secret values', () => {
    const message = errorOf({ INTERNAL_API_TOKENS: 'super-secret-but-short' });
    expect(message).not.toContain('super-secret');
  });

  it('logs readable lines in development and JSON in test, unless LOG_FORMAT says otherwise', () => {
    expect(parseConfig({}).logFormat).toBe('pretty');
    expect(parseConfig({ LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(parseConfig({ NODE_ENV: 'test' }).logFormat).toBe('json');
    expect(parseConfig({ NODE_ENV: 'test', LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(errorOf({ LOG_FORMAT: 'text' })).toBe(
      'Invalid configuration: LOG_FORMAT must be json or pretty (got "text")',
    );
  });

  describe('with NODE_ENV=production', () => {
    const complete = {
      NODE_ENV: 'production',
      INTERNAL_API_TOKENS: TOKEN,
      ENCRYPTION_KEYS: KEY,
      DATABASE_URL: 'postgres://u:p@db:5432/pdeck',
      PUBLIC_URL: 'https://int.pdeck.io',
    };

    it('starts with the required variables', () => {
      expect(parseConfig(complete).nodeEnv).toBe('production');
    });

    it.each(['INTERNAL_API_TOKENS', 'ENCRYPTION_KEYS', 'DATABASE_URL', 'PUBLIC_URL'])(
      'refuses without %s',
      (name) => {
        const env: Record<string, string> = { ...complete };
        delete env[name];
        expect(errorOf(env)).toBe(
          `Invalid configuration: ${name} is required when NODE_ENV=production`,
        );
      },
    );

    it('logs JSON and refuses LOG_FORMAT=pretty (log pipelines parse one object a line)', () => {
      expect(parseConfig(complete).logFormat).toBe('json');
      expect(parseConfig({ ...complete, LOG_FORMAT: 'json' }).logFormat).toBe('json');
      expect(errorOf({ ...complete, LOG_FORMAT: 'pretty' })).toMatch(
        /^Invalid configuration: LOG_FORMAT=pretty is refused in production/,
      );
    });

    it('treats NODE_ENV unset with DATABASE_URL set as production', () => {
      const { NODE_ENV: _, ...unset } = complete;
      expect(parseConfig(unset).nodeEnv).toBe('production');
      const { INTERNAL_API_TOKENS: __, ...noTokens } = unset;
      expect(errorOf(noTokens)).toMatch(
        /^Invalid configuration: INTERNAL_API_TOKENS is required in production \(NODE_ENV is unset and DATABASE_URL is set; .*\)$/,
      );
      const dev = { NODE_ENV: 'development', DATABASE_URL: complete.DATABASE_URL };
      expect(parseConfig(dev).nodeEnv).toBe('development');
      expect(parseConfig({ ...dev, NODE_ENV: 'test' }).nodeEnv).toBe('test');
    });

    it('asks the command-line tools for DATABASE_URL only', () => {
      const tool = { service: false };
      const db = { DATABASE_URL: complete.DATABASE_URL };
      expect(parseConfig(db, [], tool).nodeEnv).toBe('production');
      expect(() => parseConfig({ NODE_ENV: 'production' }, [], tool)).toThrow(
        /DATABASE_URL is required when NODE_ENV=production/,
      );
    });

    it('refuses PROVIDER_ORIGINS unless ALLOW_PROVIDER_ORIGINS=true', () => {
      const origins = {
        ...complete,
        PROVIDER_ORIGINS: '{"https://a.example":"http://127.0.0.1:1"}',
      };
      expect(errorOf(origins)).toMatch(
        /^Invalid configuration: PROVIDER_ORIGINS is refused in production .*ALLOW_PROVIDER_ORIGINS=true/,
      );
      expect(errorOf({ ...origins, ALLOW_PROVIDER_ORIGINS: 'false' })).toMatch(/PROVIDER_ORIGINS/);
      const allowed = parseConfig({ ...origins, ALLOW_PROVIDER_ORIGINS: 'true' });
      expect(allowed.providerOrigins).toEqual({ 'https://a.example': 'http://127.0.0.1:1' });
    });

    it('protects /docs unless DOCS_PUBLIC=true', () => {
      expect(parseConfig(complete).docsPublic).toBe(false);
      expect(parseConfig({ ...complete, DOCS_PUBLIC: 'true' }).docsPublic).toBe(true);
      expect(parseConfig({}).docsPublic).toBe(true);
      expect(parseConfig({ NODE_ENV: 'test', DOCS_PUBLIC: 'false' }).docsPublic).toBe(false);
      expect(errorOf({ DOCS_PUBLIC: 'yes' })).toMatch(/DOCS_PUBLIC must be one of/);
    });
  });

  describe('ENCRYPTION_PRIMARY_KEY_ID', () => {
    const keys = `${KEY},new:${Buffer.alloc(32, 2).toString('base64')}`;

    it('names the encrypting key; unset, the first key encrypts', () => {
      expect(parseConfig({ ENCRYPTION_KEYS: keys }).encryptionPrimaryKeyId).toBeUndefined();
      const promoted = parseConfig({ ENCRYPTION_KEYS: keys, ENCRYPTION_PRIMARY_KEY_ID: 'new' });
      expect(promoted.encryptionPrimaryKeyId).toBe('new');
      expect(promoted.encryptionKeys.map((k) => k.kid)).toEqual(['k1', 'new']);
    });

    it('must be one of the key ids of ENCRYPTION_KEYS', () => {
      expect(errorOf({ ENCRYPTION_KEYS: keys, ENCRYPTION_PRIMARY_KEY_ID: 'k2' })).toBe(
        'Invalid configuration: ENCRYPTION_PRIMARY_KEY_ID "k2" is not a key id of ENCRYPTION_KEYS (k1, new)',
      );
      expect(errorOf({ ENCRYPTION_PRIMARY_KEY_ID: 'k1' })).toBe(
        'Invalid configuration: ENCRYPTION_PRIMARY_KEY_ID is set but ENCRYPTION_KEYS is not',
      );
      expect(errorOf({ ENCRYPTION_KEYS: keys, ENCRYPTION_PRIMARY_KEY_ID: 'a.b' })).toMatch(
        /^Invalid configuration: ENCRYPTION_PRIMARY_KEY_ID must be a key id/,
      );
    });
  });

  describe('timeouts, worker health port, TRUST_PROXY', () => {
    it('defaults: 30 s statements, 30 min sync jobs, 2 min webhook jobs, port 3001, no proxy', () => {
      expect(parseConfig({})).toMatchObject({
        databaseStatementTimeoutMs: 30_000,
        syncJobTimeoutMs: 1_800_000,
        webhookJobTimeoutMs: 120_000,
        workerHealthPort: 3001,
        trustProxy: false,
        oauthCallbackRateLimit: 60,
        webhookFailureRateLimit: 60,
      });
      expect(
        parseConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '0', WORKER_HEALTH_PORT: '0' }),
      ).toMatchObject({ databaseStatementTimeoutMs: 0, workerHealthPort: 0 });
      expect(errorOf({ SYNC_JOB_TIMEOUT_MS: '10' })).toMatch(
        /^Invalid configuration: SYNC_JOB_TIMEOUT_MS/,
      );
      expect(errorOf({ DATABASE_STATEMENT_TIMEOUT_MS: 'soon' })).toMatch(
        /DATABASE_STATEMENT_TIMEOUT_MS must be an integer/,
      );
    });

    it('sizes the Postgres pool from DATABASE_POOL_SIZE (10 by default, 2-200)', () => {
      expect(parseConfig({})).toMatchObject({ databasePoolSize: 10 });
      expect(parseConfig({ DATABASE_POOL_SIZE: '25' })).toMatchObject({ databasePoolSize: 25 });
      for (const bad of ['1', '201', 'many']) {
        expect(errorOf({ DATABASE_POOL_SIZE: bad })).toMatch(
          /^Invalid configuration: DATABASE_POOL_SIZE/,
        );
      }
    });

    it('reads TRUST_PROXY as a hop count or a list of proxies, and refuses true', () => {
      expect(parseConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
      expect(parseConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::1' }).trustProxy).toEqual([
        'loopback',
        '10.0.0.0/8',
        'fd00::1',
      ]);
      expect(errorOf({ TRUST_PROXY: 'true' })).toMatch(/TRUST_PROXY must be false, a hop count/);
      expect(errorOf({ TRUST_PROXY: '10.0.0.0/33' })).toMatch(/TRUST_PROXY/);
    });
  });
});
