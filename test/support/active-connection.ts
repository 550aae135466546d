import { randomBytes } from 'node:crypto';
import type { ConnectionCredentials } from '@pdeck/integration-sdk';
import { ConnectionStore, type GrantInput } from '../../src/auth/connection-store.service.js';
import type { Connection } from '../../src/auth/entities/connection.entity.js';
import type { TestApp } from './test-app.js';

/**
 * An active connection stored the way a confirmed connect flow leaves it (pending grant, then
 * activated), without driving OAuth: for tests whose subject comes after connecting.
 */
export async function storeActiveConnection(
  store: ConnectionStore,
  input: GrantInput,
): Promise<{ connection: Connection }> {
  const { connection } = await store.storePendingGrant(input, {
    tokenHash: randomBytes(32).toString('base64url'),
    expiresAt: new Date(Date.now() + 600_000),
  });
  const grant = store.pendingGrantOf(connection);
  if (!grant || !(await store.activatePendingGrant(connection, grant))) {
    throw new Error(`could not activate connection ${connection.id}`);
  }
  return { connection: await store.get(connection.id) };
}

/** An active connection of the test tasks provider (TestSyncProvider) for `userId`. */
export async function storeTasksConnection(
  store: ConnectionStore,
  provider: string,
  userId: string,
): Promise<string> {
  const { connection } = await storeActiveConnection(store, {
    userId,
    provider,
    identity: { accountId: 'tasks-account', label: 'tasks@example.test' },
    credentials: {
      accessToken: 'tasks-token',
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    },
    scopes: ['tasks'],
  });
  return connection.id;
}

/**
 * Marks a connection's stored access token expired (its expiry lives inside the encrypted
 * credentials, so through the store) and returns the credentials as they were before.
 */
export async function expireStoredAccessToken(
  t: TestApp,
  connectionId: string,
): Promise<ConnectionCredentials> {
  const store = t.app.get(ConnectionStore);
  const connection = await store.get(connectionId);
  const before = store.credentialsOf(connection);
  await store.swapCredentials(connectionId, connection.tokenVersion, {
    ...before,
    expiresAt: new Date(Date.now() - 60_000).toISOString(),
  });
  return before;
}
