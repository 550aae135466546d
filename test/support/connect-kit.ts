import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { Redis } from 'ioredis';
import pg from 'pg';
import { DataSource } from 'typeorm';
import type { ConnectionEvent } from '../../src/auth/connection-events.js';
import { ConnectionStore } from '../../src/auth/connection-store.service.js';
import { Connection } from '../../src/auth/entities/connection.entity.js';
import type { ConnectionCredentials, ProviderCatalogEntry } from '@pdeck/integration-sdk';
import { followConsent } from './oidc-server.js';
import { TEST_API_TOKEN, type TestApp } from './test-app.js';
import { TEST_OAUTH_ID, TestOAuthProvider } from './test-oauth-provider.js';

/** A second OAuth 2.0 integration on the same authorization server, for mix-up tests. */
@Injectable()
export class OtherOAuthProvider extends TestOAuthProvider {
  override readonly catalog: ProviderCatalogEntry = {
    ...new TestOAuthProvider().catalog,
    id: `${TEST_OAUTH_ID}-b`,
  };
}

/** Drives the connect routes of a running app the way PDeck and a browser do. */
export class ConnectDriver {
  /** Everything the service sent back (bodies and Location headers), for the leak check. */
  readonly responses: string[] = [];
  readonly events: Array<{ name: string; event: ConnectionEvent }> = [];
  /** Codes, states and verifiers seen during the tests: none may reach a log line. */
  readonly flowSecrets: string[] = [];
  readonly redis: Redis;
  readonly db: pg.Client;

  constructor(private readonly t: TestApp) {
    this.redis = new Redis(t.config.redisUrl);
    this.db = new pg.Client({ connectionString: t.database.url });
    const emitter = t.app.get(EventEmitter2);
    for (const name of ['connection.created', 'connection.reconnected']) {
      emitter.on(name, (event: ConnectionEvent) => this.events.push({ name, event }));
    }
  }

  async open(): Promise<void> {
    await this.db.connect();
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    await this.db.end();
  }

  async authorize(
    body: unknown,
    provider = TEST_OAUTH_ID,
    token: string | null = TEST_API_TOKEN,
  ): Promise<Response> {
    const res = await fetch(`${this.t.baseUrl}/v1/connections/${provider}/authorize`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });
    this.responses.push(await res.clone().text());
    return res;
  }

  /** PDeck's backend confirming a grant for `userId`, with the token the browser brought back. */
  async confirm(connectionId: unknown, userId: string, token: unknown): Promise<Response> {
    this.flowSecrets.push(String(token));
    const res = await fetch(`${this.t.baseUrl}/v1/connections/${String(connectionId)}/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_TOKEN}` },
      body: JSON.stringify({ userId, token }),
    });
    this.responses.push(await res.clone().text());
    return res;
  }

  /** Starts a flow and returns the authorize URL and the state it carries. */
  async start(userId: string, returnTo?: string): Promise<{ url: URL; state: string }> {
    const res = await this.authorize({ userId, returnTo });
    if (res.status !== 201) throw new Error(`authorize answered ${res.status}`);
    const url = new URL(((await res.json()) as { authorizeUrl: string }).authorizeUrl);
    return { url, state: url.searchParams.get('state') ?? '' };
  }

  /** The browser's consent at the authorization server, up to the redirect back to us. */
  consent(url: URL | string): Promise<URL> {
    return followConsent(url.toString(), this.t.baseUrl);
  }

  /** A started flow, consented at the server: the callback URL carrying code and state. */
  async consented(userId: string, returnTo?: string) {
    const { url, state } = await this.start(userId, returnTo);
    const verifier = (await this.storedState(state))?.verifier ?? '';
    const callback = await this.consent(url);
    const code = callback.searchParams.get('code') ?? '';
    this.flowSecrets.push(state, verifier, code);
    return { callback, state, code, verifier };
  }

  async callback(url: URL | string, accept = 'application/json'): Promise<Response> {
    const res = await fetch(url, { redirect: 'manual', headers: { accept } });
    this.responses.push(await res.clone().text(), res.headers.get('location') ?? '');
    return res;
  }

  callbackUrl(provider: string, query: Record<string, string>): string {
    return `${this.t.baseUrl}/v1/oauth/${provider}/callback?${new URLSearchParams(query)}`;
  }

  /** Redis keeps a flow under the state's random part (a sealed returnTo may follow a dot). */
  stateKey(state: string): string {
    return `${this.t.config.redisKeyPrefix}:oauth2:state:${state.split('.')[0]}`;
  }

  async storedState(state: string): Promise<Record<string, string> | null> {
    const raw = await this.redis.get(this.stateKey(state));
    return raw ? (JSON.parse(raw) as Record<string, string>) : null;
  }

  async connections(where = 'true', params: unknown[] = []): Promise<Record<string, unknown>[]> {
    const { rows } = await this.db.query(`SELECT * FROM connections WHERE ${where}`, params);
    return rows as Record<string, unknown>[];
  }

  /** The decrypted credentials of a connection, read through the app's own store. */
  async credentialsOf(id: unknown): Promise<ConnectionCredentials> {
    const store = this.t.app.get(ConnectionStore);
    return store.credentialsOf(await store.get(String(id)));
  }

  /** Every access and refresh token stored in any connection row, pending grants included. */
  async storedTokens(): Promise<string[]> {
    const store = this.t.app.get(ConnectionStore);
    const rows = await this.t.app.get(DataSource).getRepository(Connection).find();
    return rows.flatMap((c) => {
      const sets = [
        c.credentials ? store.credentialsOf(c) : undefined,
        store.pendingGrantOf(c)?.credentials,
      ];
      return sets.flatMap((s) => (s ? [s.accessToken, s.refreshToken ?? ''] : [])).filter(Boolean);
    });
  }

  /** Every key and value under the app's Redis prefixes (state, queues), as one text. */
  async redisDump(): Promise<string> {
    const prefix = this.t.config.redisKeyPrefix;
    const parts: string[] = [];
    for (const pattern of [`${prefix}:*`, `{${prefix}}:*`]) {
      for (const key of await this.redis.keys(pattern)) {
        parts.push(key, JSON.stringify(await dumpKey(this.redis, key)));
      }
    }
    return parts.join('\n');
  }
}

async function dumpKey(redis: Redis, key: string): Promise<unknown> {
  const type = await redis.type(key);
  if (type === 'string') return redis.get(key);
  if (type === 'hash') return redis.hgetall(key);
  if (type === 'list') return redis.lrange(key, 0, -1);
  if (type === 'set') return redis.smembers(key);
  if (type === 'zset') return redis.zrange(key, 0, -1);
  if (type === 'stream') return redis.xrange(key, '-', '+');
  return type;
}

/** A code obtained by hand for the same client and PKCE challenge but another redirect URI. */
export async function codeForRedirect(
  oidcOrigin: string,
  stopAtOrigin: string,
  params: { clientId: string; redirectUri: string; scope: string; verifier: string },
): Promise<string> {
  const url = new URL('/auth', oidcOrigin);
  url.search = new URLSearchParams({
    client_id: params.clientId,
    response_type: 'code',
    redirect_uri: params.redirectUri,
    scope: params.scope,
    state: 'manual-state-0',
    code_challenge: s256(params.verifier),
    code_challenge_method: 'S256',
  }).toString();
  return (await followConsent(url.toString(), stopAtOrigin)).searchParams.get('code') ?? '';
}

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}
