import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring } from '../../src/core/crypto/keyring.js';
import { GoogleCalendarProvider } from '../../src/providers/google-calendar/google-calendar.provider.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const OLD = { kid: 'old', key: randomBytes(32) };
const NEW = { kid: 'new', key: randomBytes(32) };
const PROVIDER = 'google-calendar';

/**
 * A stored subscription secret this process cannot decrypt (here: written with a key only newer
 * processes hold, as during a rolling key rotation) is our fault, not the sender's: the
 * receiver answers 503 so Google retries the notification (it drops it after a 401) and logs
 * the key id. A wrong channel token stays a 401.
 */
describe('webhook receiver: a stored secret that does not decrypt', () => {
  let t: TestApp;
  let db: DataSource;
  const logs: string[] = [];
  const secrets = { readable: randomBytes(32).toString('base64url'), lacking: '' };

  /** A Google channel row whose token is encrypted with `key`, bound to its row like the store does. */
  async function channel(key: typeof OLD, channelId: string, token: string): Promise<void> {
    const connectionId = randomUUID();
    await db.query(
      "INSERT INTO connections (id, user_id, provider, account_id, status) VALUES ($1, 'user-kr', $2, $3, 'active')",
      [connectionId, PROVIDER, `account-${channelId}`],
    );
    const id = randomUUID();
    const secret = new Keyring([key]).encrypt(token, {
      table: 'webhook_subscriptions',
      column: 'secret',
      rowId: id,
    });
    await db.query(
      `INSERT INTO webhook_subscriptions
         (id, connection_id, provider, resource_id, external_id, external_resource_id, secret, callback_url)
       VALUES ($1, $2, $3, 'primary', $4, $5, $6, $7)`,
      [
        id,
        connectionId,
        PROVIDER,
        channelId,
        `res-${channelId}`,
        secret,
        `${t.baseUrl}/v1/webhooks/${PROVIDER}`,
      ],
    );
  }

  const notify = (channelId: string, token: string, state = 'exists') =>
    fetch(`${t.baseUrl}/v1/webhooks/${PROVIDER}`, {
      method: 'POST',
      headers: {
        'x-goog-channel-id': channelId,
        'x-goog-channel-token': token,
        'x-goog-resource-id': `res-${channelId}`,
        'x-goog-resource-state': state,
        'x-goog-message-number': '7',
      },
    });

  beforeAll(async () => {
    t = await startTestApp({
      integrations: [GoogleCalendarProvider],
      env: {
        // This process holds the old key only.
        ENCRYPTION_KEYS: `${OLD.kid}:${OLD.key.toString('base64')}`,
        GOOGLE_CALENDAR_CLIENT_ID: 'kr-client-id',
        GOOGLE_CALENDAR_CLIENT_SECRET: 'kr-client-secret',
        LOG_LEVEL: 'info',
      },
      configure: (config) => {
        config.logDestination = { write: (line) => void logs.push(line) };
      },
    });
    db = t.app.get(DataSource);
    secrets.lacking = randomBytes(32).toString('base64url');
    await channel(NEW, 'ch-new-key', secrets.lacking);
    await channel(OLD, 'ch-old-key', secrets.readable);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers 503, stores nothing, and logs the key id without any secret', async () => {
    const res = await notify('ch-new-key', secrets.lacking);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      statusCode: 503,
      message: 'Temporarily unavailable, retry later',
    });
    const stored = await db.query('SELECT 1 FROM webhook_deliveries WHERE provider = $1', [
      PROVIDER,
    ]);
    expect(stored).toHaveLength(0);

    const line = logs.find((l) => l.includes('webhook secret does not decrypt'));
    expect(line).toBeDefined();
    const entry = JSON.parse(line!) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'error', provider: PROVIDER, kid: 'new' });
    const all = logs.join('\n');
    expect(all).not.toContain(secrets.lacking);
    expect(all).not.toContain(NEW.key.toString('base64'));
    expect(all).not.toContain(OLD.key.toString('base64'));
  });

  it('keeps a wrong token on a readable secret a 401, and the right one accepted', async () => {
    expect((await notify('ch-old-key', 'not-the-channel-token', 'sync')).status).toBe(401);
    expect((await notify('ch-old-key', secrets.readable, 'sync')).status).toBe(200);
  });
});
