import { randomBytes, randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { ConnectionStore } from '../../src/auth/connection-store.service.js';
import { TokenService } from '../../src/auth/token.service.js';
import type { EncryptionContext, Keyring } from '../../src/core/crypto/keyring.js';
import type { ConnectionCredentials } from '@pdeck/integration-sdk';
import { expireStored } from './token-test-kit.js';

export const subscriptionAad = (id: string): EncryptionContext => ({
  table: 'webhook_subscriptions',
  column: 'secret',
  rowId: id,
});

/** Webhook subscription rows whose secret is encrypted with `keyring`; returns the plaintexts. */
export async function seedSubscriptions(
  ds: DataSource,
  keyring: Keyring,
  connectionId: string,
  count: number,
): Promise<string[]> {
  const secrets: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = randomUUID();
    const secret = `channel-token-${i}-${randomBytes(8).toString('hex')}`;
    secrets.push(secret);
    await ds.query(
      `INSERT INTO webhook_subscriptions (id, connection_id, provider, resource_id, external_id, secret, callback_url)
       VALUES ($1, $2, 'test-oauth', $3, $4, $5, 'http://127.0.0.1/hook')`,
      [id, connectionId, `res-${i}`, `ext-${i}`, keyring.encrypt(secret, subscriptionAad(id))],
    );
  }
  return secrets;
}

/**
 * What runs while the keys rotate: real refreshes through both processes, credential rewrites
 * (as a refresh of another provider would do) and plain reads. Records the last value written
 * to each synthetic row, so the test can prove none was lost.
 */
export class Traffic {
  errors: unknown[] = [];
  refreshes = 0;
  writes = 0;
  private running = true;

  constructor(
    private readonly p1: INestApplicationContext,
    private readonly p2: INestApplicationContext,
    private readonly real: string[],
    private readonly synthetic: string[],
    private readonly expected: Map<string, ConnectionCredentials>,
  ) {}

  stop(): void {
    this.running = false;
  }

  async run(): Promise<void> {
    await Promise.all([
      this.refreshLoop(),
      this.writeLoop(),
      this.readLoop(this.p1),
      this.readLoop(this.p2),
    ]);
  }

  private async guard(work: () => Promise<void>): Promise<void> {
    while (this.running) await work().catch((e: unknown) => void this.errors.push(e));
  }

  private refreshLoop() {
    return this.guard(async () => {
      for (const id of this.real) {
        await expireStored(this.p1.get(ConnectionStore), id);
        const [x, y] = await Promise.all(
          [this.p1, this.p2].map((p) => p.get(TokenService).getCredentials(id)),
        );
        if (x.accessToken !== y.accessToken) throw new Error('two processes got different tokens');
        this.refreshes++;
      }
    });
  }

  private writeLoop() {
    let n = 0;
    const store = this.p2.get(ConnectionStore);
    return this.guard(async () => {
      const id = this.synthetic[n++ % this.synthetic.length];
      const row = await store.get(id);
      const next = { ...store.credentialsOf(row), accessToken: `rewritten-${n}` };
      if (await store.swapCredentials(id, row.tokenVersion, next)) {
        this.expected.set(id, next);
        this.writes++;
      }
    });
  }

  private readLoop(p: INestApplicationContext) {
    let n = 0;
    return this.guard(async () => {
      const id = this.synthetic[(n += 7) % this.synthetic.length];
      await p.get(TokenService).getCredentials(id);
    });
  }
}
