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

  it('never echoes secret values', () => {
    const message = errorOf({ INTERNAL_API_TOKENS: 'super-secret-but-short' });
    expect(message).not.toContain('super-secret');
  });

  describe('with NODE_ENV=production', () => {
    const complete = {
      NODE_ENV: 'production',
      INTERNAL_API_TOKENS: TOKEN,
      ENCRYPTION_KEYS: KEY,
      DATABASE_URL: 'postgres://u:p@db:5432/pdeck',
    };

    it('starts with the required variables', () => {
      expect(parseConfig(complete).nodeEnv).toBe('production');
    });

    it.each(['INTERNAL_API_TOKENS', 'ENCRYPTION_KEYS', 'DATABASE_URL'])(
      'refuses without %s',
      (name) => {
        const env: Record<string, string> = { ...complete };
        delete env[name];
        expect(errorOf(env)).toBe(
          `Invalid configuration: ${name} is required when NODE_ENV=production`,
        );
      },
    );
  });
});
