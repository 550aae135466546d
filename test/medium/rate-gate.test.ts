import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ENTITIES } from '../../src/app.entities.js';
import { CoreModule } from '../../src/core/core.module.js';
import {
  isProviderError,
  type AccountIdentity,
  type IntegrationProvider,
  type ProviderCatalogEntry,
  type SyncPage,
  type SyncResource,
} from '@pdeck/integration-sdk';
import { ProviderContextFactory } from '../../src/providers/provider-context.factory.js';
import { eventsTestConfig } from '../support/events-test-kit.js';
import { ProvidersModule } from '../../src/providers/providers.module.js';

const ORIGIN = 'https://api.budgeted.example';

/** One request per minute per connection: the second call in a row must be refused. */
@Injectable()
class BudgetedProvider implements IntegrationProvider {
  readonly catalog: ProviderCatalogEntry = {
    id: 'budgeted',
    displayName: 'Budgeted',
    itemKinds: ['task'],
    auth: {
      scheme: 'oauth2',
      authorizeUrl: `${ORIGIN}/auth`,
      tokenUrl: `${ORIGIN}/token`,
      scopes: [],
      scopeSeparator: ' ',
      pkce: true,
      tokenRequestEncoding: 'form',
      clientAuth: 'body',
      rotatesRefreshTokens: false,
    },
    credentials: { clientId: 'BUDGETED_CLIENT_ID', clientSecret: 'BUDGETED_CLIENT_SECRET' },
    sync: { defaultIntervalMinutes: 30 },
    rateBudgets: [{ scope: 'connection', limit: 1, windowMs: 60_000 }],
  };
  async fetchIdentity(): Promise<AccountIdentity> {
    return { accountId: 'a', label: 'a' };
  }
  async listResources(): Promise<SyncResource[]> {
    return [];
  }
  async *sync(): AsyncIterable<SyncPage> {}
}

/**
 * The shared request budgets apply to every provider context, including one created before the
 * application finished bootstrapping and in a process without the sync module (a connect flow in
 * an API process): the gate is a constructor dependency, never a hook assigned later.
 */
describe('rate gate outside the sync engine (real Redis)', () => {
  let app: INestApplicationContext;
  let server: Server;
  let hits = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const config = eventsTestConfig(
      { PROVIDER_ORIGINS: JSON.stringify({ [ORIGIN]: `http://127.0.0.1:${port}` }) },
      inject('databaseUrl'),
    );
    const root = {
      module: class RateGateTestRoot {},
      imports: [CoreModule.forRoot(config, ENTITIES), ProvidersModule.forRoot([BudgetedProvider])],
    };
    // Not initialised on purpose: the context is used before bootstrap.
    app = await NestFactory.createApplicationContext(root, { logger: false });
  });
  afterAll(async () => {
    await app?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('refuses the request over budget with RATE_LIMITED before it reaches the provider', async () => {
    const ctx = app.get(ProviderContextFactory).create({
      provider: 'budgeted',
      connectionId: `conn-${randomBytes(4).toString('hex')}`,
      accountId: 'a',
      credentials: async () => ({ accessToken: 'x' }),
    });
    await ctx.http.request({ url: `${ORIGIN}/ping`, operation: 'ping' });
    const refused = await ctx.http.request({ url: `${ORIGIN}/ping` }).catch((e: unknown) => e);
    expect(isProviderError(refused) && refused.code).toBe('RATE_LIMITED');
    expect(isProviderError(refused) && refused.retryAt!.getTime()).toBeGreaterThan(Date.now());
    expect(hits).toBe(1);
  });
});
